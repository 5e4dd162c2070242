"""Search matches marked in a comment's text, safely: the text is escaped piece by piece, never trusted."""

from markupsafe import Markup, escape

# How much text to show either side of the first match when a snippet is asked for.
_CONTEXT = 80


def highlight(text: str | None, term: str | None, limit: int | None = None) -> Markup:
    """`text` escaped, with each case-insensitive occurrence of `term` in <mark>.

    The matches are found in the raw text and every piece, match or not, is
    escaped on its own, so HTML in the text or in the term is shown as typed
    and a term can never match inside an escape sequence. With `limit`, long
    text is cut to about that many characters around the first match.
    """
    text = text or ""
    term = (term or "").strip()
    start, end = 0, len(text)
    first = text.lower().find(term.lower()) if term else -1
    if limit is not None and len(text) > limit:
        if first < 0 or first + len(term) <= limit - 1:
            start, end = 0, limit - 1
        else:
            start = max(0, first - _CONTEXT)
            end = min(len(text), max(first + len(term) + _CONTEXT, start + limit - 1))
    shown = text[start:end]
    pieces: list[str] = ["…" if start > 0 else ""]
    if term and len(term.lower()) == len(term) and len(shown.lower()) == len(shown):
        lowered, wanted, at = shown.lower(), term.lower(), 0
        while (found := lowered.find(wanted, at)) >= 0:
            pieces.append(escape(shown[at:found]))
            pieces.append(Markup("<mark>%s</mark>") % shown[found:found + len(term)])
            at = found + len(term)
        pieces.append(escape(shown[at:]))
    else:
        pieces.append(escape(shown))
    if end < len(text):
        pieces.append("…")
    return Markup("").join(pieces)
