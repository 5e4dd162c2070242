"""Plain text: what counts as having written anything at all, and how the service counts what people wrote."""

import unicodedata

# Control and format characters (the zero-width space, the word joiner, a byte order mark...) and every kind of
# space: a paste from a web page or a phone keyboard can leave them behind, and none of them shows on a page.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    """True when nothing in the text would show to a reader, so it cannot stand as an answer or a comment."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in text)


def quantity(number: int, noun: str) -> str:
    """'1 row', '5,000 rows': a count and its noun, `noun` given in the singular."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def comments_and_answers(comments: int, answers: int) -> str:
    """'1 comment and 2 answers', naming only what there is; 'no comments or answers' when there is neither.

    Every page that says what a response holds says it this way, as a response may be answers alone.
    """
    parts = [f"{number} {noun}{'' if number == 1 else 's'}"
             for number, noun in ((comments, "comment"), (answers, "answer")) if number]
    return " and ".join(parts) or "no comments or answers"


def excerpt(text: str, limit: int) -> str:
    """The text on one line: whole if it fits in `limit` characters, else cut between words, with an ellipsis.

    A quotation cut inside a word ("…different interpreta") reads as a
    mistake, so the cut is at the last space that fits; only a first word
    longer than `limit` is cut inside, as nothing else would fit.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else text[:limit]
    return cut.rstrip(",;:") + "\u2026"
