"""Reads. Every organisation-owned object is fetched here, through the person's
membership, so that nothing of another organisation can be seen (404 instead)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404

from civicloop.accounts.models import AuditEvent, Invitation, Membership, Organisation, User


def membership_get_for_user(*, user: User, org_slug: str) -> Membership:
    if not user.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("organisation", "user").get(
            user=user, organisation__slug=org_slug, user__is_active=True
        )
    except Membership.DoesNotExist:
        raise Http404 from None


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def organisation_get_public(*, slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404 from None


def membership_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__name")


def membership_get(*, organisation: Organisation, code: str) -> Membership:
    try:
        return organisation.memberships.select_related("user", "organisation").get(code=code)
    except Membership.DoesNotExist:
        raise Http404 from None


def invitation_list_pending(*, organisation: Organisation) -> QuerySet[Invitation]:
    return organisation.invitations.filter(status=Invitation.Status.PENDING).select_related(
        "invited_by"
    )


def invitation_get(*, organisation: Organisation, code: str) -> Invitation:
    try:
        return organisation.invitations.get(code=code)
    except Invitation.DoesNotExist:
        raise Http404 from None


def audit_events(
    *,
    organisation: Organisation,
    action: str = "",
    actor_query: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organisation=organisation)
    if action:
        events = events.filter(action__startswith=action)
    if actor_query:
        events = events.filter(actor_label__icontains=actor_query)
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events.order_by("-created_at", "-id")


def audit_actions(*, organisation: Organisation) -> list[str]:
    return list(
        AuditEvent.objects.filter(organisation=organisation)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
