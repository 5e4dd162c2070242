"""Plain text: what counts as having written anything at all, names as kept and compared, and counting."""

import unicodedata

# Control and format characters (the zero-width space, the word joiner, a byte order mark...) and every kind of
# space: a paste from a web page or a phone keyboard can leave them behind, and none of them shows on a page.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    """True when nothing in the text would show to a reader, so it cannot stand as an answer or a comment."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in text)


# Unicode's Bidi_Control characters. Invisible, they change the order in which the text around them is shown:
# "\u202eKU htlaeH tooF" shows as "Foot Health UK", so a name holding one does not read as what it is.
DIRECTION_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Greek and Cyrillic letters drawn like Latin ones, as the Latin letter they pass for: in a name compared with
# another, "Fοot Health UK" with a Greek omicron is "Foot Health UK" to anyone reading it. The table is of small
# letters, as case is folded first (so a Greek or Cyrillic name still matches itself in any case); a letter whose
# capital passes for another Latin letter than its small form (Greek nu: N and v) is read as its capital.
_LOOK_ALIKES = str.maketrans(dict(zip("αβγεζηικμνορτυχ" "авекмнорстухіјѕԁһӏԛԝ",
                                      "abyezhikmnoptyx" "abekmhopctyxijsdhlqw")))

# The width of the column a name key is kept in: names that differ only beyond it are one name.
NAME_KEY_LENGTH = 200


def has_direction_controls(text: str) -> bool:
    return any(char in DIRECTION_CONTROLS for char in text)


def direction_controls_refused(subject: str) -> str:
    """The sentence that refuses a name holding a direction control: `subject` is "Full name", "Organisation name"."""
    return f"{subject} must not include hidden characters that change the direction of text"


def tidy_name(text: str) -> str:
    """A name a person typed, as it is kept and shown: invisible format characters dropped, no space at the ends.

    Zero-width spaces and joiners, word joiners, soft hyphens and byte order
    marks (Unicode's format characters) are dropped rather than refused: a
    paste from a web page or a document brings them, the person cannot see
    them to take them out, and the name reads the same without them.
    Direction controls are kept, for the caller to refuse with
    direction_controls_refused: they change how the name reads, so only the
    person can say what it should be.
    """
    kept = "".join(char for char in text
                   if char in DIRECTION_CONTROLS or unicodedata.category(char) != "Cf")
    return kept.strip()


def one_line_name(text: str | None) -> str:
    """A name staff type (a theme, a saved view, a campaign) as kept: tidied as tidy_name does, on one line with
    its runs of spaces folded. A name of nothing but zero-width characters is empty, to be refused as such."""
    return " ".join(tidy_name(text or "").split())


def name_key(name: str) -> str:
    """The one form in which names are compared: two names with the same key are the same name to a reader.

    Compatibility forms (full-width letters, ligatures) are made plain
    (NFKC), invisible format characters removed, case folded, Greek and
    Cyrillic letters that look Latin read as Latin, and spacing collapsed. So a
    name cannot be made new by a zero-width space, a look-alike letter, or
    case and spaces. At most NAME_KEY_LENGTH characters.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_LOOK_ALIKES)
    return " ".join(text.split())[:NAME_KEY_LENGTH]


def quantity(number: int, noun: str) -> str:
    """'1 row', '5,000 rows': a count and its noun, `noun` given in the singular."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def file_size(size: int | None) -> str:
    """A file's size as people read one: '850 bytes', '21 KB', '3.4 MB' (1 KB is 1,024 bytes)."""
    size = size or 0
    if size < 1024:
        return quantity(size, "byte")
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size / (1024 * 1024):,.1f} MB"


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
