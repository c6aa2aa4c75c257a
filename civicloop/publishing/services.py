"""Changing an organisation's guidance settings; every change is audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Organisation, User
from civicloop.publishing import guidance
from civicloop.publishing.models import ElectionPeriod, GuidancePolicy


def _policy(organisation: Organisation) -> GuidancePolicy:
    policy, _created = GuidancePolicy.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    return policy


def _snapshot(policy: GuidancePolicy) -> dict[str, Any]:
    return {
        "disabled_rules": list(policy.disabled_rules),
        "blocked_words": policy.blocked_words,
        "sensitive_topics": policy.sensitive_topics,
        "max_reading_age": policy.max_reading_age,
        "own_rules": list(policy.own_rules),
    }


@transaction.atomic
def guidance_settings_update(
    *,
    actor: User,
    organisation: Organisation,
    enabled_rules: list[str],
    blocked_words: str,
    sensitive_topics: str,
    max_reading_age: int,
) -> GuidancePolicy:
    unknown = set(enabled_rules) - set(guidance.RULES)
    if unknown:
        raise ValidationError(
            _("Unknown rules: %(rules)s.") % {"rules": ", ".join(sorted(unknown))}
        )
    if not 6 <= max_reading_age <= 20:
        raise ValidationError({"max_reading_age": _("Choose a reading age between 6 and 20.")})
    policy = _policy(organisation)
    before = _snapshot(policy)
    own_ids = [r["id"] for r in policy.own_rules]
    kept_off = [r for r in policy.disabled_rules if r in own_ids]
    policy.disabled_rules = sorted(set(guidance.RULES) - set(enabled_rules)) + kept_off
    policy.blocked_words = blocked_words.strip()
    policy.sensitive_topics = sensitive_topics.strip()
    policy.max_reading_age = max_reading_age
    policy.save()
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.settings_changed",
        target=organisation,
        before=before,
        after=_snapshot(policy),
    )
    return policy


@transaction.atomic
def own_rule_add(
    *, actor: User, organisation: Organisation, words: str, level: str, message: str
) -> dict[str, Any]:
    listed = [w.strip() for w in re.split(r"[\n,]", words) if w.strip()]
    if not listed:
        raise ValidationError({"words": _("Enter at least one word or phrase.")})
    if level not in (guidance.ADVICE, guidance.REVIEW):
        raise ValidationError({"level": _("Choose advice or needs review.")})
    if not message.strip():
        raise ValidationError({"message": _("Enter the message authors will see.")})
    policy = _policy(organisation)
    taken = {r["id"] for r in policy.own_rules}
    number = len(policy.own_rules) + 1
    while f"own-{number}" in taken:
        number += 1
    new = {"id": f"own-{number}", "words": listed, "level": level, "message": message.strip()}
    policy.own_rules = [*policy.own_rules, new]
    policy.save(update_fields=["own_rules"])
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.rule_added",
        target=organisation,
        after=new,
    )
    return new


@transaction.atomic
def own_rule_remove(*, actor: User, organisation: Organisation, rule_id: str) -> None:
    policy = _policy(organisation)
    removed = [r for r in policy.own_rules if r["id"] == rule_id]
    if not removed:
        raise ValidationError(_("That rule does not exist."))
    policy.own_rules = [r for r in policy.own_rules if r["id"] != rule_id]
    policy.disabled_rules = [r for r in policy.disabled_rules if r != rule_id]
    policy.save(update_fields=["own_rules", "disabled_rules"])
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.rule_removed",
        target=organisation,
        before=removed[0],
    )


@transaction.atomic
def election_period_add(
    *, actor: User, organisation: Organisation, name: str, starts: dt.date, ends: dt.date
) -> ElectionPeriod:
    if ends < starts:
        raise ValidationError(
            {"ends": _("Polling day must be on or after the start of the period.")}
        )
    period = ElectionPeriod(organisation=organisation, name=name.strip(), starts=starts, ends=ends)
    period.full_clean()
    period.save()
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.election_added",
        target=organisation,
        after={"name": period.name, "starts": starts.isoformat(), "ends": ends.isoformat()},
    )
    return period


@transaction.atomic
def election_period_remove(*, actor: User, organisation: Organisation, pk: int) -> None:
    period = ElectionPeriod.objects.filter(organisation=organisation, pk=pk).first()
    if period is None:
        raise ValidationError(_("That election period does not exist."))
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.election_removed",
        target=organisation,
        before={
            "name": period.name,
            "starts": period.starts.isoformat(),
            "ends": period.ends.isoformat(),
        },
    )
    period.delete()
