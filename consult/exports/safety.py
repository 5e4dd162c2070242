"""Spreadsheet safety: text that a spreadsheet would run as a formula is neutralised."""

# A cell starting with one of these is treated as a formula (or DDE) by Excel,
# LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_SET = frozenset(FORMULA_TRIGGERS)


def safe_cell(value):
    """Text that would start a formula gets a leading apostrophe; everything else is unchanged.

    The apostrophe is the convention spreadsheet users recognise (Excel hides
    it and shows the text as typed). Numbers, dates and None pass through.
    """
    if value.__class__ is str and value[:1] in _TRIGGER_SET:
        return "'" + value
    return value
