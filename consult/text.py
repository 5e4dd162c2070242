"""Plain text people type: what counts as having written anything at all."""

import unicodedata

# Control and format characters (the zero-width space, the word joiner, a byte order mark...) and every kind of
# space: a paste from a web page or a phone keyboard can leave them behind, and none of them shows on a page.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    """True when nothing in the text would show to a reader, so it cannot stand as an answer or a comment."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in text)
