"""Plain text: what counts as having written anything at all, and how the service counts what people wrote."""

import unicodedata

# Control and format characters (the zero-width space, the word joiner, a byte order mark...) and every kind of
# space: a paste from a web page or a phone keyboard can leave them behind, and none of them shows on a page.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    """True when nothing in the text would show to a reader, so it cannot stand as an answer or a comment."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in text)


def comments_and_answers(comments: int, answers: int) -> str:
    """'1 comment and 2 answers', naming only what there is; 'no comments or answers' when there is neither.

    Every page that says what a response holds says it this way, as a response may be answers alone.
    """
    parts = [f"{number} {noun}{'' if number == 1 else 's'}"
             for number, noun in ((comments, "comment"), (answers, "answer")) if number]
    return " and ".join(parts) or "no comments or answers"
