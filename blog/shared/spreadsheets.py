"""CSV files that people open in a spreadsheet: no cell runs as a formula.

A cell starting with =, +, -, @, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (`=HYPERLINK("https://evil.example", ...)`
in a subscriber's source or a visitor's utm_source). Such a cell gets a
leading quote, which makes it text (OWASP's advice); numbers are left alone.
"""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in row]
