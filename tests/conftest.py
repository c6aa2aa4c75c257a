"""The cast shared by staff tests: alice owns Alpha, bob is an officer at Alpha,
charlie is an outsider who owns Beta; plus one Alpha member for every role."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connections
from django.test import Client

from civicloop.accounts import services
from civicloop.accounts.models import Membership, Organisation, User
from civicloop.accounts.roles import Role

PASSWORD = "correct horse battery staple"


def make_user(email: str, name: str) -> User:
    return User.objects.create_user(email, PASSWORD, name=name)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice@alpha.example", "Alice Owner")


@pytest.fixture
def bob(db) -> User:
    return make_user("bob@alpha.example", "Bob Officer")


@pytest.fixture
def charlie(db) -> User:
    return make_user("charlie@beta.example", "Charlie Outsider")


@pytest.fixture
def alpha(alice, bob) -> Organisation:
    org = services.organisation_create(
        actor=alice, name="Alpha Council", slug="alpha", kind=Organisation.Kind.COUNCIL, owner=alice
    )
    services.membership_create(actor=alice, organisation=org, user=bob, role=Role.OFFICER)
    return org


@pytest.fixture
def beta(charlie) -> Organisation:
    return services.organisation_create(
        actor=charlie, name="Beta Homes", slug="beta", kind=Organisation.Kind.HOUSING, owner=charlie
    )


@pytest.fixture
def member_of(alpha, alice) -> Callable[[str], Membership]:
    """A new person with ``role`` at Alpha."""
    made: dict[str, Membership] = {}

    def make(role: str) -> Membership:
        if role not in made:
            user = make_user(f"{role}-person@alpha.example", f"{role.title()} Person")
            made[role] = services.membership_create(
                actor=alice, organisation=alpha, user=user, role=role
            )
        return made[role]

    return make


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice, alpha) -> Client:
    return client_for(alice)


@pytest.fixture
def charlie_client(charlie, beta) -> Client:
    return client_for(charlie)


@contextmanager
def audit_triggers_suspended(connection) -> Iterator[None]:
    """Let Django's test flush empty the append-only audit table, then restore
    the triggers. Test infrastructure only: the product has no such path."""
    sql = importlib.import_module("civicloop.accounts.migrations.0002_audit_append_only")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in sql.SQLITE_REVERSE:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                for statement in sql.SQLITE:
                    cursor.execute(statement)
            elif connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


@pytest.fixture(scope="session", autouse=True)
def _flush_past_audit_triggers() -> Iterator[None]:
    from django.core.management.commands import flush

    original = flush.Command.handle

    def handle(self, **options):  # type: ignore[no-untyped-def]
        with audit_triggers_suspended(connections[options.get("database", "default")]):
            return original(self, **options)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


def build_consultation(organisation, user, *, open_now: bool = True, access: str = "anyone"):
    """A consultation using every kind of question, with skip logic on section 2."""
    import datetime as dt

    from django.utils import timezone

    from civicloop.consultations.models import Consultation, Page, Question

    now = timezone.now()
    consultation = Consultation.objects.create(
        organisation=organisation,
        title="Repairs service standards",
        summary="How quickly should we fix things?",
        body="## Why we ask\n\nWe want to **improve** repairs.",
        privacy_notice="We use your answers only for this consultation.",
        opens_at=now - dt.timedelta(days=1) if open_now else None,
        closes_at=now + dt.timedelta(days=30),
        status=Consultation.Status.OPEN if open_now else Consultation.Status.DRAFT,
        access=access,
        created_by=user,
    )
    p1 = Page.objects.create(consultation=consultation, position=1, title="Your views")
    p2 = Page.objects.create(
        consultation=consultation,
        position=2,
        title="What went wrong",
        show_if_key="agree",
        show_if_values=["disagree", "strongly_disagree"],
    )
    p3 = Page.objects.create(consultation=consultation, position=3, title="About you")
    specs = [
        (p1, "agree", "agree_scale", "Repairs should be done within 7 days", True, []),
        (p1, "why", "free_text", "Tell us why", False, []),
        (
            p1,
            "priorities",
            "multiple_choice",
            "What matters most?",
            False,
            ["Speed", "Quality", "Being kept informed"],
        ),
        (p1, "contact", "yes_no_why", "Were you kept informed?", False, []),
        (p2, "rank", "ranking", "Rank these", False, ["Phone", "Email", "Text"]),
        (p3, "postcode", "postcode", "Your postcode", False, []),
        (p3, "age", "age", "Your age", True, []),  # demographic: stays optional
        (p3, "tenure", "tenure", "Your housing", False, []),
        (p3, "consent", "consent", "May we publish your response?", False, []),
    ]
    for position, (page, key, kind, text, required, options) in enumerate(specs, start=1):
        Question.objects.create(
            consultation=consultation,
            page=page,
            position=position,
            key=key,
            type=kind,
            text=text,
            required=required,
            options=options,
            max_length=500 if kind == "free_text" else None,
        )
    return consultation


@pytest.fixture
def consultation_factory(db):
    return build_consultation


@pytest.fixture
def consultation(alpha, alice):
    return build_consultation(alpha, alice)
