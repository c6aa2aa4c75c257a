"""Cells for CSV and XLSX files that a spreadsheet will not run as formulas."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Return ``value`` ready for a spreadsheet cell: text that could start a
    formula is prefixed with an apostrophe, which spreadsheets show as plain text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
