"""What counts as having written anything: the rule behind "Enter your comment" and "Enter your answer"."""

import pytest

from consult.text import (
    comments_and_answers,
    excerpt,
    file_size,
    has_direction_controls,
    is_blank,
    name_key,
    tidy_name,
)


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


@pytest.mark.parametrize("typed", [
    "Foot Health UK", "  foot   health uk ", "FOOT HEALTH UK", "Foot\u00a0Health UK", "Ｆｏｏｔ Health UK",
    "Fo\u200bot Health UK", "Foot Health\u2060 UK\ufeff", "F\u00adoot Health UK",
    "Fοot Health UK",  # Greek small omicron
    "FΟΟT HEALTH UK",  # Greek capital omicrons
    "Fооt Неаlth UK",  # Cyrillic о, Н, е, а
    "Foot Hеalth UK",  # Cyrillic е
])
def test_names_that_read_the_same_have_one_key(typed):
    assert name_key(typed) == name_key("Foot Health UK") == "foot health uk"


@pytest.mark.parametrize(("first", "second"), [
    ("Арсенал", "арсенал"), ("ΝΑΣΑ", "νασα"),  # a Greek or Cyrillic name matches itself in any case
    ("Straße Trust", "STRASSE TRUST"),
])
def test_case_never_makes_a_new_name(first, second):
    assert name_key(first) == name_key(second)


@pytest.mark.parametrize(("first", "second"), [("Foot Health UK", "Food Health UK"), ("Leeds", "Leeds Trust")])
def test_names_that_read_differently_keep_different_keys(first, second):
    assert name_key(first) != name_key(second)


@pytest.mark.parametrize(("typed", "kept"), [
    ("  Foot Health UK ", "Foot Health UK"), ("Fo\u200bot Health\u200d UK", "Foot Health UK"),
    ("\ufeffPat Smith\u2060", "Pat Smith"), ("\u200b \u200c", ""), ("Fοot", "Fοot"),
])
def test_a_name_is_kept_without_invisible_format_characters(typed, kept):
    assert tidy_name(typed) == kept


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c"])
def test_direction_controls_are_kept_for_the_caller_to_refuse(control):
    assert has_direction_controls(tidy_name(f"Foot Health UK{control}"))
    assert not has_direction_controls(tidy_name("Foot\u200b Health UK"))


@pytest.mark.parametrize("size, said", [(None, "0 bytes"), (1, "1 byte"), (850, "850 bytes"), (21_504, "21 KB"),
                                        (1_048_575, "1,024 KB"), (3_565_158, "3.4 MB"), (2**31, "2,048.0 MB")])
def test_a_file_size_reads_as_people_read_one(size, said):
    """A 21 KB file was offered as '(0.0 MB)'."""
    assert file_size(size) == said
