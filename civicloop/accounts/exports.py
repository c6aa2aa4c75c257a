"""Exporting the audit log as CSV (run by the worker as a job)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TextIO

from civicloop.accounts.models import Organisation
from civicloop.accounts.selectors import audit_events
from civicloop.lib.spreadsheet import safe_cell

AUDIT_COLUMNS = [
    "when_utc",
    "who",
    "action",
    "object_type",
    "object_code",
    "object",
    "before",
    "after",
]
BATCH = 500


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def audit_export_csv(
    *,
    organisation: Organisation,
    filters: dict[str, Any],
    out: TextIO,
    progress: Callable[[int, str], None],
) -> int:
    """Write the organisation's audit events matching ``filters`` to ``out``.

    Returns the number of rows written. ``progress(percent, message)`` is called
    after every batch."""
    events = audit_events(
        organisation=organisation,
        action=filters.get("action", ""),
        actor_query=filters.get("actor", ""),
        since=_date(filters.get("since")),
        until=_date(filters.get("until")),
    )
    total = events.count()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    written = 0
    progress(0, f"Exporting {total} events.")
    for event in events.iterator(chunk_size=BATCH):
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    event.created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                    event.actor_label,
                    event.action,
                    event.object_type,
                    event.object_code,
                    event.object_label,
                    json.dumps(event.before, ensure_ascii=False, sort_keys=True),
                    json.dumps(event.after, ensure_ascii=False, sort_keys=True),
                )
            ]
        )
        written += 1
        if written % BATCH == 0:
            progress(int(written * 100 / max(total, 1)), f"Exported {written} of {total} events.")
    progress(100, f"Exported {written} events.")
    return written
