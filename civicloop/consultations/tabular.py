"""Reading uploaded CSV and XLSX files into rows, with errors a person can act on."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number as the person sees it, cells)
    blank_rows: int


def _clean_headers(raw: list[object]) -> list[str]:
    headers = [str(h).strip() if h is not None else "" for h in raw]
    if not any(headers):
        raise ValidationError(_("The first row must name the columns."))
    seen: set[str] = set()
    for h in headers:
        if h and h in seen:
            raise ValidationError(_("The column %(name)s appears twice.") % {"name": h})
        seen.add(h)
    return headers


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        _("The file's text could not be read. Save it as CSV UTF-8 and try again.")
    )


def read_table(data: bytes, filename: str) -> Table:
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB. Split it into smaller files."))
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    name = filename.lower()
    raw_rows: list[list[object]]
    if name.endswith(".xlsx"):
        raw_rows = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")):
        text = _decode(data)
        try:
            raw_rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise ValidationError(
                _("The CSV file is malformed: %(error)s") % {"error": exc}
            ) from None
    else:
        raise ValidationError(_("Upload a CSV or XLSX file."))
    if not raw_rows:
        raise ValidationError(_("The file is empty."))
    headers = _clean_headers(list(raw_rows[0]))
    rows: list[tuple[int, dict[str, str]]] = []
    blank = 0
    for number, raw in enumerate(raw_rows[1:], start=2):
        cells = ["" if c is None else str(c).strip() for c in raw]
        if not any(cells):
            blank += 1
            continue
        if len(cells) > len(headers) and any(cells[len(headers) :]):
            raise ValidationError(
                _("Row %(row)s has more cells than there are column names.") % {"row": number}
            )
        rows.append(
            (number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h})
        )
        if len(rows) > MAX_ROWS:
            raise ValidationError(_("The file has more than %(n)s rows.") % {"n": MAX_ROWS})
    if not rows:
        raise ValidationError(_("The file has column names but no rows of answers."))
    return Table(headers=[h for h in headers if h], rows=rows, blank_rows=blank)


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        # data_only: a formula cell gives its last calculated value, never the formula.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ValidationError(
            _("The XLSX file could not be opened. Is it a real Excel file?")
        ) from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
