"""What each role may do. One table, read by views, services and tests alike."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    OFFICER = "officer", _("Officer")
    ANALYST = "analyst", _("Analyst")
    VIEWER = "viewer", _("Viewer")


class Capability(StrEnum):
    VIEW = "view"  # see the organisation's staff pages
    DRAFT = "draft"  # write posts, consultations and replies
    REPLY = "reply"
    APPROVE = "approve"  # sign off risky posts
    CONFIGURE = "configure"  # organisation settings and channels
    MANAGE_PEOPLE = "manage_people"  # invite, change roles, remove
    MANAGE_OWNERS = "manage_owners"  # grant or remove the owner role
    AUDIT = "audit"  # read and export the audit log
    ANALYSE = "analyse"  # code responses, run analyses
    REPORT = "report"  # build and export reports


_ALL = frozenset(Capability)
CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: _ALL,
    Role.MANAGER: _ALL - {Capability.MANAGE_OWNERS},
    Role.OFFICER: frozenset({Capability.VIEW, Capability.DRAFT, Capability.REPLY}),
    Role.ANALYST: frozenset({Capability.VIEW, Capability.ANALYSE, Capability.REPORT}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}

ROLE_DESCRIPTIONS: dict[str, Promise] = {
    Role.OWNER: _("Everything a manager can do, and can make or remove owners."),
    Role.MANAGER: _(
        "Configures the organisation, approves posts, manages people, reads the audit log."
    ),
    Role.OFFICER: _("Drafts posts and consultations, replies to messages."),
    Role.ANALYST: _("Codes responses, runs analyses and builds reports."),
    Role.VIEWER: _("Can look at everything, change nothing."),
}


def role_can(role: str, capability: Capability) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())
