"""Search matches marked in a comment's text, safely: the text is escaped piece by piece, never trusted."""

import re

from markupsafe import Markup, escape

from consult.comments.search import highlight_terms

# How much text to show either side of the first match when a snippet is asked for.
_CONTEXT = 80
# Endings the search's stemmer takes off, so "patient" marks "patients" and "procedures" marks "procedure".
_ENDINGS = re.compile(r"(?:ies|es|s|ed|ing|ly)$", re.IGNORECASE)


def _pattern(query: str) -> re.Pattern | None:
    """Each word or phrase the search looked for, at the start of a word, in any of its forms."""
    alternatives = []
    for term in highlight_terms(query):
        words = [_ENDINGS.sub("", word) if len(word) > 4 else word for word in term.split()]
        alternatives.append(r"\W+".join(re.escape(word) for word in words) + r"\w*")
    if not alternatives:
        return None
    # Longest first, so a phrase is marked whole rather than by its first word.
    alternatives.sort(key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def highlight(text: str | None, query: str | None, limit: int | None = None) -> Markup:
    """`text` escaped, with what the search `query` looked for in <mark>.

    The query is read as the search reads it (words in any form, "phrases", no excluded
    words; see consult.comments.search), so what is marked is why the comment matched.
    The matches are found in the raw text and every piece, match or not, is escaped on
    its own, so HTML in the text or in the query is shown as typed and a match can never
    fall inside an escape sequence. With `limit`, long text is cut to about that many
    characters around the first match.
    """
    text = text or ""
    pattern = _pattern(query or "")
    matches = list(pattern.finditer(text)) if pattern else []
    start, end = 0, len(text)
    if limit is not None and len(text) > limit:
        first = matches[0] if matches else None
        if first is None or first.end() <= limit - 1:
            start, end = 0, limit - 1
        else:
            start = max(0, first.start() - _CONTEXT)
            end = min(len(text), max(first.end() + _CONTEXT, start + limit - 1))
    pieces: list[str] = ["…" if start > 0 else ""]
    at = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(escape(text[at:match.start()]))
        pieces.append(Markup("<mark>%s</mark>") % match.group(0))
        at = match.end()
    pieces.append(escape(text[at:end]))
    if end < len(text):
        pieces.append("…")
    return Markup("").join(pieces)
