"""CSV and XLSX exports of a consultation's responses: one column per question key,
with a data dictionary, and every cell safe from formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

from civicloop.consultations import questions as qt
from civicloop.consultations.models import Consultation, Response
from civicloop.lib.spreadsheet import safe_cell

FIXED = ["reference", "submitted_at_utc", "channel", "visibility", "flags", "erased"]

# Other apps add columns (analysis adds each free-text answer's themes): a provider
# takes the consultation and returns (column names, descriptions, one function giving
# a response's cells). Registered in AppConfig.ready, so consultations imports none.
ColumnProvider = Callable[
    [Consultation], tuple[list[str], list[str], Callable[[Response], list[str]]]
]
COLUMN_PROVIDERS: list[ColumnProvider] = []


def _extra(
    consultation: Consultation,
) -> list[tuple[list[str], list[str], Callable[[Response], list[str]]]]:
    return [provider(consultation) for provider in COLUMN_PROVIDERS]


def _questions(consultation: Consultation) -> list[Any]:
    return list(consultation.questions.select_related("page"))


def header(consultation: Consultation, extra: list[Any] | None = None) -> list[str]:
    extra = _extra(consultation) if extra is None else extra
    return [
        *FIXED,
        *[c for q in _questions(consultation) for c in qt.export_columns(q)],
        *[c for columns, _, _ in extra for c in columns],
    ]


def rows(consultation: Consultation, extra: list[Any] | None = None) -> Iterator[list[str]]:
    extra = _extra(consultation) if extra is None else extra
    questions = _questions(consultation)
    responses = consultation.responses.order_by("submitted_at", "id")
    for r in responses.iterator(chunk_size=1000):
        fixed = [
            r.reference,
            r.submitted_at.isoformat(timespec="seconds"),
            r.channel,
            r.visibility,
            ";".join(r.flags),
            "yes" if r.erased_at else "",
        ]
        cells = [v for q in questions for v in qt.export_values(q, r.answers.get(q.key))]
        more = [v for _, _, values in extra for v in values(r)]
        yield [safe_cell(c) for c in [*fixed, *cells, *more]]


def dictionary(consultation: Consultation, extra: list[Any] | None = None) -> list[list[str]]:
    extra = _extra(consultation) if extra is None else extra
    table = [["column", "question", "type", "options (value = label)", "required"]]
    descriptions = {
        "reference": "Reference number given to the respondent",
        "submitted_at_utc": "When the response was received (UTC)",
        "channel": "How it arrived: " + ", ".join(Response.Channel.values),
        "visibility": "visible, or hidden by a moderator",
        "flags": "Suspicions for staff to judge (honeypot, many_from_one_client, staff)",
        "erased": "yes if erased at the respondent's request",
    }
    for column in FIXED:
        table.append([column, descriptions[column], "", "", ""])
    for q in _questions(consultation):
        options = "; ".join(f"{v} = {label}" for v, label in qt.options_for(q))
        for column in qt.export_columns(q):
            text = q.text if column == q.key else f"{q.text} (why)"
            table.append(
                [column, text, q.get_type_display(), options, "yes" if qt.is_required(q) else "no"]
            )
    for columns, descriptions_, _values in extra:
        for column, description in zip(columns, descriptions_, strict=True):
            table.append([column, description, "analysis", "", "no"])
    return [[safe_cell(c) for c in row] for row in table]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(consultation: Consultation) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: Excel then reads UTF-8 correctly
    extra = _extra(consultation)
    yield writer.writerow(header(consultation, extra))
    for row in rows(consultation, extra):
        yield writer.writerow(row)


def xlsx_bytes(consultation: Consultation) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Responses")
    extra = _extra(consultation)
    sheet.append(header(consultation, extra))
    for row in rows(consultation, extra):
        sheet.append(row)
    dictionary_sheet = book.create_sheet("Data dictionary")
    for row in dictionary(consultation, extra):
        dictionary_sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
