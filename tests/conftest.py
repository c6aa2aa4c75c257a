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
