"""What counts as having written anything: the rule behind "Enter your comment" and "Enter your answer"."""

import pytest

from consult.text import comments_and_answers, excerpt, is_blank


@pytest.mark.parametrize("text", ["", " ", "\n\t\r", "\u00a0", "\u200b", "\u2060\ufeff", "\u200c\u200d \u3000"])
def test_spaces_and_invisible_characters_are_blank(text):
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", " . ", "\u200bYes", "😀", "٣", "\u05d0"])
def test_anything_that_shows_is_not_blank(text):
    assert not is_blank(text)


@pytest.mark.parametrize(("comments", "answers", "said"), [
    (0, 0, "no comments or answers"), (1, 0, "1 comment"), (0, 1, "1 answer"), (3, 0, "3 comments"),
    (1, 2, "1 comment and 2 answers"), (2, 1, "2 comments and 1 answer"),
])
def test_a_response_is_counted_in_comments_and_answers_naming_only_what_there_is(comments, answers, said):
    assert comments_and_answers(comments, answers) == said


@pytest.mark.parametrize(("text", "shown"), [
    ("Short enough", "Short enough"),
    ("Open to different interpretations of it", "Open to different…"),  # not "…different interpr"
    ("Open to different, interpretations", "Open to different…"),
    ("Open to  different\ninterpretations", "Open to different…"),
    ("Open to different abc more", "Open to different abc…"),  # the cut falls on a space: the word is whole
    ("Open to different ok", "Open to different ok"),
    ("Antidisestablishmentarianism", "Antidisestablishmenta…"),
])
def test_an_excerpt_is_cut_between_words(text, shown):
    assert excerpt(text, 21) == shown
