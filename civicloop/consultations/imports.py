"""Importing responses collected elsewhere (CSV or XLSX), all-or-nothing by default."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Membership
from civicloop.accounts.roles import Capability
from civicloop.consultations.models import Consultation, ImportBatch, Response
from civicloop.consultations.services import clean_answers, response_submit
from civicloop.consultations.tabular import Table, read_table
from civicloop.lib.spreadsheet import safe_cell

IGNORE = ""
NAME, EMAIL = "__name", "__email"


@dataclass
class RowResult:
    row: int
    answers: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


@dataclass
class Preview:
    rows: list[RowResult]
    blank_rows: int

    @property
    def valid(self) -> list[RowResult]:
        return [r for r in self.rows if not r.errors]

    @property
    def invalid(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]


def _store_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_upload(
    *, actor_membership: Membership, consultation: Consultation, filename: str, data: bytes
) -> ImportBatch:
    """Check the file can be read and has not been imported before; keep it for the next steps."""
    if not actor_membership.can(Capability.DRAFT):
        raise PermissionDenied
    digest = hashlib.sha256(data).hexdigest()
    done = consultation.imports.filter(sha256=digest, status=ImportBatch.Status.IMPORTED).first()
    if done is not None:
        raise ValidationError(
            _("This file was already imported on %(date)s (%(rows)s responses); nothing was added.")
            % {"date": done.created_at.strftime("%d %B %Y"), "rows": done.rows_imported}
        )
    table = read_table(data, filename)
    path = _store_dir() / f"{digest}{Path(filename).suffix.lower()}"
    path.write_bytes(data)
    return ImportBatch.objects.create(
        consultation=consultation,
        filename=Path(filename).name[:255],
        sha256=digest,
        stored_file=path.name,
        rows_total=len(table.rows),
        created_by=actor_membership.user,
    )


def batch_table(batch: ImportBatch) -> Table:
    return read_table((_store_dir() / batch.stored_file).read_bytes(), batch.stored_file)


def guess_mapping(batch: ImportBatch) -> dict[str, str]:
    """Column → question key, where a column is named like a key or a question."""
    keys = {q.key.lower(): q.key for q in batch.consultation.questions.all()}
    texts = {q.text.strip().lower(): q.key for q in batch.consultation.questions.all()}
    mapping = {}
    for header in batch_table(batch).headers:
        h = header.strip().lower()
        if h in keys or h in texts:
            mapping[header] = keys.get(h) or texts[h]
        elif h in {"name", "full name"}:
            mapping[header] = NAME
        elif h in {"email", "email address"}:
            mapping[header] = EMAIL
        else:
            mapping[header] = IGNORE
    return mapping


def import_preview(*, batch: ImportBatch, mapping: dict[str, str]) -> Preview:
    consultation = batch.consultation
    valid_targets = {q.key for q in consultation.questions.all()} | {NAME, EMAIL, IGNORE}
    bad = [t for t in mapping.values() if t not in valid_targets]
    if bad:
        raise ValidationError(_("Unknown question key: %(keys)s") % {"keys": ", ".join(bad)})
    targets = [t for t in mapping.values() if t]
    if len(set(targets)) != len(targets):
        raise ValidationError(_("Two columns are mapped to the same question."))
    if not set(targets) - {NAME, EMAIL}:
        raise ValidationError(_("Map at least one column to a question."))
    table = batch_table(batch)
    results = []
    for number, cells in table.rows:
        raw = {mapping[h]: v for h, v in cells.items() if mapping.get(h) not in (None, IGNORE)}
        answers = {k: v for k, v in raw.items() if k not in {NAME, EMAIL}}
        result = RowResult(row=number, raw=cells)
        try:
            result.answers = clean_answers(consultation, answers)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                result.errors.extend(f"{key}: {m}" for m in messages)
        result.answers[NAME] = raw.get(NAME, "")
        result.answers[EMAIL] = raw.get(EMAIL, "")
        results.append(result)
    return Preview(rows=results, blank_rows=table.blank_rows)


@transaction.atomic
def import_commit(
    *, actor_membership: Membership, batch: ImportBatch, mapping: dict[str, str], valid_only: bool
) -> ImportBatch:
    """Import the rows. All-or-nothing unless ``valid_only``; each row's idempotency
    key comes from the file's hash and row number, so nothing is ever doubled."""
    if not actor_membership.can(Capability.DRAFT):
        raise PermissionDenied
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == ImportBatch.Status.IMPORTED:
        raise ValidationError(_("This file has already been imported."))
    preview = import_preview(batch=batch, mapping=mapping)
    if preview.invalid and not valid_only:
        raise ValidationError(
            _(
                "%(n)s rows have errors, so nothing was imported. Fix them, or import only the valid rows."
            )
            % {"n": len(preview.invalid)}
        )
    imported = 0
    for row in preview.valid:
        answers = {k: v for k, v in row.answers.items() if k not in {NAME, EMAIL}}
        _response, created = response_submit(
            consultation=batch.consultation,
            answers=answers,
            channel=Response.Channel.IMPORT,
            idempotency_key=f"import:{batch.sha256[:40]}:{row.row}",
            respondent_name=row.answers.get(NAME, ""),
            respondent_email=row.answers.get(EMAIL, "")
            if "@" in row.answers.get(EMAIL, "")
            else "",
            entered_by=actor_membership.user,
            import_batch=batch,
            import_row=row.row,
            validated=True,
        )
        imported += int(created)
    batch.status = ImportBatch.Status.IMPORTED
    batch.mapping = mapping
    batch.rows_imported = imported
    batch.rows_failed = len(preview.invalid)
    batch.save(update_fields=["status", "mapping", "rows_imported", "rows_failed"])
    audit_record(
        actor=actor_membership.user,
        organisation=batch.consultation.organisation,
        action="responses.imported",
        target=batch.consultation,
        object_label=f"{batch.consultation.title}: {batch.filename}",
        after={
            "file": batch.filename,
            "imported": imported,
            "skipped_with_errors": len(preview.invalid),
        },
    )
    return batch


def error_file(preview: Preview) -> str:
    """CSV of the rows with errors: row number, what is wrong, and the original cells."""
    out = io.StringIO()
    headers = list(preview.rows[0].raw) if preview.rows else []
    writer = csv.writer(out)
    writer.writerow(["row", "errors", *headers])
    for row in preview.invalid:
        writer.writerow(
            [
                row.row,
                safe_cell("; ".join(row.errors)),
                *[safe_cell(row.raw.get(h, "")) for h in headers],
            ]
        )
    return "\ufeff" + out.getvalue()
