"""Demo organisations and people, written for civicloop (no third-party text).

Loading is idempotent: a second run finds the organisations and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from civicloop.accounts import services
from civicloop.accounts.models import Membership, Organisation, User
from civicloop.accounts.roles import Role

DEMO_PASSWORD = "civicloop-demo-2026"  # noqa: S105 - printed for the demo on purpose

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "name": "Ashworth District Council",
        "slug": "ashworth",
        "kind": Organisation.Kind.COUNCIL,
        "brand_colour": "#1d4f73",
        "domain": "ashworth.example",
        "people": [
            ("Priya Shah", "owner"),
            ("Tom Hughes", "manager"),
            ("Grace Okafor", "officer"),
            ("Dafydd Evans", "analyst"),
            ("Sam Lee", "viewer"),
        ],
    },
    {
        "name": "Riverside Homes",
        "slug": "riverside-homes",
        "kind": Organisation.Kind.HOUSING,
        "brand_colour": "#6a2c70",
        "domain": "riverside.example",
        "office_opens": dt.time(8, 30),
        "office_closes": dt.time(18, 0),
        "office_days": "012345",
        "people": [
            ("Maria Costa", "owner"),
            ("Kwame Mensah", "manager"),
            ("Aisha Begum", "officer"),
            ("Leon Walsh", "analyst"),
            ("Hannah Price", "viewer"),
        ],
    },
]


def demo_email(role: str, domain: str) -> str:
    return f"{role}@{domain}"


def demo_sign_ins() -> list[tuple[str, str, str]]:
    """(organisation, role, email) for every demo person, for printing."""
    rows = []
    for org in ORGANISATIONS:
        for _name, role in org["people"]:
            rows.append((str(org["name"]), role, demo_email(role, str(org["domain"]))))
    rows.append(
        (
            "Both (analyst at Ashworth, viewer at Riverside)",
            "two organisations",
            "consultant@civicloop.example",
        )
    )
    rows.append(("Platform operator", "Django admin at /admin/", "admin@civicloop.example"))
    return rows


def _user(email: str, name: str, **extra: object) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, name=name, **extra)
    return user


@transaction.atomic
def load_demo() -> bool:
    """Create the demo data. Returns False if it was already there."""
    if Organisation.objects.filter(slug="ashworth").exists():
        return False
    for spec in ORGANISATIONS:
        people = spec["people"]
        domain = str(spec["domain"])
        fields = {k: v for k, v in spec.items() if k not in {"people", "domain"}}
        first_name, first_role = people[0]
        owner = _user(demo_email(first_role, domain), first_name)
        org = services.organisation_create(actor=None, owner=owner, **fields)
        for name, role in people[1:]:
            services.membership_create(
                actor=owner, organisation=org, user=_user(demo_email(role, domain), name), role=role
            )
    consultant = _user("consultant@civicloop.example", "Rhys Morgan")
    for slug, role in (("ashworth", Role.ANALYST), ("riverside-homes", Role.VIEWER)):
        org = Organisation.objects.get(slug=slug)
        first_owner = Membership.objects.filter(organisation=org, role=Role.OWNER).first()
        services.membership_create(
            actor=first_owner.user if first_owner else None,
            organisation=org,
            user=consultant,
            role=role,
        )
    _user("admin@civicloop.example", "Platform Operator", is_staff=True, is_superuser=True)
    return True
