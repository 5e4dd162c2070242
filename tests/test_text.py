"""What counts as having written anything: the rule behind "Enter your comment" and "Enter your answer"."""

import pytest

from consult.text import is_blank


@pytest.mark.parametrize("text", ["", " ", "\n\t\r", "\u00a0", "\u200b", "\u2060\ufeff", "\u200c\u200d \u3000"])
def test_spaces_and_invisible_characters_are_blank(text):
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", " . ", "\u200bYes", "😀", "٣", "\u05d0"])
def test_anything_that_shows_is_not_blank(text):
    assert not is_blank(text)
