"""Writing the audit log. Every service that changes state calls ``audit_record``
inside its own transaction, so a change and its record commit or fail together."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from civicloop.accounts.models import AuditEvent, Organisation, User


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose values differ, so the log shows what actually changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def audit_record(
    *,
    actor: User | None,
    organisation: Organisation | None,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_code: str = "",
    object_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    if target is not None:
        object_type = object_type or target._meta.model_name or ""
        object_code = object_code or str(
            getattr(target, "code", "") or getattr(target, "slug", "") or target.pk
        )
        object_label = object_label or str(target)
    event = AuditEvent(
        organisation=organisation,
        actor=actor,
        actor_label=(f"{actor.name} <{actor.email}>" if actor else "civicloop (system)"),
        action=action,
        object_type=object_type,
        object_code=object_code,
        object_label=object_label[:300],
        before=before or {},
        after=after or {},
    )
    event.full_clean()
    event.save()
    return event
