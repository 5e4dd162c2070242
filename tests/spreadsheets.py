"""Workbooks read back as a spreadsheet user sees them, so that tests can check formula safety."""

from consult.downloads import FORMULA_TRIGGERS


def shown(cell):
    """A cell's value as Excel's formula bar shows it: text marked as text ("quote prefix") with its apostrophe.

    Text starting like a formula must be so marked, and its stored words must not themselves start with an
    apostrophe (the guard written into the words, which every reader of the sheet would see): either fails here.
    """
    value = cell.value
    if isinstance(value, str):
        assert not (value[:1] == "'" and value[1:2] in FORMULA_TRIGGERS), \
            f"{cell.coordinate}: a stray apostrophe is stored in {value!r}"
        if value[:1] in FORMULA_TRIGGERS:
            assert cell.quotePrefix, f"{cell.coordinate}: {value!r} is not marked as text"
            return "'" + value
    return value


def rows_shown(worksheet, **kwargs) -> list[tuple]:
    """Every row of the sheet (or those iter_rows' arguments pick), each value as `shown`."""
    return [tuple(shown(cell) for cell in row) for row in worksheet.iter_rows(**kwargs)]
