"""Walk every URL pattern: an outsider gets 404 on every staff page of another
organisation, and a viewer can change nothing. A new route without an entry
here fails the suite, so no page escapes the check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from civicloop.accounts.models import AuditEvent, Invitation, Membership
from civicloop.accounts.roles import Role
from civicloop.jobs.models import Job
from tests.conftest import client_for

# Routes that are not one organisation's staff pages, each with why it is open.
NON_STAFF_ROUTES = {
    "index": "landing page",
    "healthz": "health check for load balancers",
    "set_language": "language cookie only",
    "accounts:signin": "sign-in",
    "accounts:signout": "sign-out",
    "accounts:password_reset": "password reset",
    "accounts:password_reset_done": "password reset",
    "accounts:password_reset_confirm": "password reset (token-checked)",
    "accounts:password_reset_complete": "password reset",
    "accounts:invitation_accept": "invitation (token-checked)",
    "accounts:home": "lists only the person's own memberships",
    "accounts:public_organisation": "public page of an organisation",
    "accounts:public_logo": "public logo of an organisation",
    "consultations:hub": "public list of consultations",
    "consultations:detail": "public consultation page (drafts 404)",
    "consultations:start": "public answering flow",
    "consultations:answer": "public answering flow",
    "consultations:check": "public answering flow",
    "consultations:done": "public answering flow",
    "consultations:resume": "public answering flow (token-checked)",
    "consultations:erase": "public erasure request",
    "consultations:document": "public supporting documents",
    "consultations:api_openapi": "API schema",
    "consultations:api_list": "API (token-scoped, tests/test_api.py)",
    "consultations:api_detail": "API (token-scoped, tests/test_api.py)",
    "channels:image": "image of an approved post (signed address, tests/test_channels.py)",
    "channels:oauth_callback": "sign-in return: bound to the session that started it, checks the role (tests/test_channels.py)",
    "consultations:api_responses": "API (token-scoped, tests/test_api.py)",
    "analysis:api_themes": "API (token-scoped, tests/test_analysis.py)",
}


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django admin: platform operators only (is_staff)
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def all_routes() -> dict[str, URLPattern]:
    return dict(_walk(get_resolver().url_patterns))


def staff_route_names() -> list[str]:
    return sorted(name for name in all_routes() if name not in NON_STAFF_ROUTES)


@pytest.fixture
def alpha_objects(
    alpha, alice, bob, consultation_factory
) -> dict[str, Callable[[], dict[str, str]]]:
    invitation = Invitation.objects.create(
        organisation=alpha,
        email="new@alpha.example",
        role=Role.OFFICER,
        token_hash="x" * 64,
        invited_by=alice,
        expires_at="2999-01-01T00:00:00Z",
    )
    job = Job.objects.create(organisation=alpha, kind=Job.Kind.AUDIT_EXPORT, created_by=alice)
    bob_membership = Membership.objects.get(user=bob, organisation=alpha)
    consultation = consultation_factory(alpha, alice, open_now=True)
    response = consultation.responses.create(idempotency_key="t1", channel="web", answers={})
    batch = consultation.imports.create(
        filename="x.csv", sha256="0" * 64, stored_file="none.csv", created_by=alice
    )
    c = {"code": consultation.code}
    from civicloop.analysis.models import AnalysisRun, MachineCampaign, MachineTheme, Theme

    run = AnalysisRun.objects.create(
        consultation=consultation, question_key="why", created_by=alice, is_current=True
    )
    theme = Theme.objects.create(consultation=consultation, question_key="why")
    MachineTheme.objects.create(run=run, theme=theme, rank=0, label="t", description="d", count=0)
    MachineCampaign.objects.create(run=run, number=0, template="t", count=0)
    q = {**c, "key": "why"}
    from civicloop.publishing.models import Post

    post = Post.objects.create(organisation=alpha, author=bob, text="Bins", networks=["bluesky"])
    return {
        "channels:channels": dict,
        "channels:oauth_start": lambda: {"network": "mastodon"},
        "channels:oauth_pages": dict,
        "publishing:check": dict,
        "publishing:settings": dict,
        "publishing:posts": dict,
        "publishing:compose": dict,
        "publishing:compose_check": dict,
        "publishing:review_queue": dict,
        "publishing:post": lambda: {"code": post.code},
        "publishing:edit": lambda: {"code": post.code},
        "analysis:index": lambda: c,
        "analysis:question": lambda: q,
        "analysis:themes_csv": lambda: q,
        "analysis:history": lambda: q,
        "analysis:theme": lambda: {**q, "theme": theme.code},
        "analysis:campaign": lambda: {**q, "number": 0},
        "consultations:staff_list": dict,
        "consultations:overview": lambda: c,
        "consultations:edit": lambda: c,
        "consultations:builder": lambda: c,
        "consultations:preview": lambda: c,
        "consultations:question_edit": lambda: {**c, "pk": consultation.questions.first().pk},
        "consultations:page_edit": lambda: {**c, "pk": consultation.pages.first().pk},
        "consultations:documents": lambda: c,
        "consultations:invitations": lambda: c,
        "consultations:responses": lambda: c,
        "consultations:entry": lambda: c,
        "consultations:response": lambda: {**c, "reference": response.reference},
        "consultations:import": lambda: c,
        "consultations:import_map": lambda: {**c, "batch": batch.code},
        "consultations:export_csv": lambda: c,
        "consultations:export_xlsx": lambda: c,
        "accounts:dashboard": dict,
        "accounts:people": dict,
        "accounts:invite": dict,
        "accounts:member": lambda: {"code": bob_membership.code},
        "accounts:invitation_revoke": lambda: {"code": invitation.code},
        "accounts:settings": dict,
        "accounts:audit": dict,
        "jobs:detail": lambda: {"code": job.code},
        "jobs:download": lambda: {"code": job.code},
    }


def test_every_route_is_classified():
    routes = all_routes()
    for name, pattern in routes.items():
        is_staff = str(pattern.pattern).startswith("staff/<slug:org_slug>")
        if name in NON_STAFF_ROUTES:
            assert not is_staff, f"{name} takes an organisation but is listed as non-staff"
        else:
            assert is_staff, f"{name} is neither an organisation's staff page nor listed as open"
            assert getattr(pattern.callback, "civicloop_org_view", False), (
                f"{name} must be wrapped in accounts.access.org_view"
            )


def test_every_staff_route_has_tenancy_coverage(alpha_objects):
    missing = set(staff_route_names()) - set(alpha_objects)
    assert not missing, f"Add these routes to alpha_objects in {__file__}: {sorted(missing)}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_every_staff_page(alpha_objects, charlie_client, method):
    checked = 0
    for name in staff_route_names():
        url = reverse(name, kwargs={"org_slug": "alpha", **alpha_objects[name]()})
        response = getattr(charlie_client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
        checked += 1
    assert checked >= 25


def test_signed_out_visitor_is_sent_to_sign_in(alpha_objects, client):
    for name in staff_route_names():
        url = reverse(name, kwargs={"org_slug": "alpha", **alpha_objects[name]()})
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:signin"))


def test_viewer_cannot_change_anything(alpha_objects, member_of, alpha):
    viewer = member_of(Role.VIEWER)
    client = client_for(viewer.user)
    events_before = AuditEvent.objects.count()
    roles_before = list(Membership.objects.values_list("code", "role").order_by("code"))
    payload = {"role": Role.OWNER, "action": "remove", "email": "x@example.com", "name": "Hacked"}
    for name in staff_route_names():
        url = reverse(name, kwargs={"org_slug": "alpha", **alpha_objects[name]()})
        response = client.post(url, payload)
        # 403: the role may not change this; 405: the page changes nothing for anyone.
        assert response.status_code in (403, 405), f"POST {url} gave {response.status_code}"
    assert AuditEvent.objects.count() == events_before
    assert list(Membership.objects.values_list("code", "role").order_by("code")) == roles_before
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Council"
    assert Invitation.objects.filter(status=Invitation.Status.PENDING).count() == 1


def test_objects_of_another_organisation_are_404_even_for_its_owner(alpha_objects, beta, charlie):
    """Charlie owns Beta; Alpha's object codes under Beta's slug must still be 404."""
    client = client_for(charlie)
    for name in ("accounts:member", "accounts:invitation_revoke", "jobs:detail", "jobs:download"):
        url = reverse(name, kwargs={"org_slug": "beta", **alpha_objects[name]()})
        assert client.get(url).status_code == 404, url
    for name in ("accounts:member", "accounts:invitation_revoke"):
        url = reverse(name, kwargs={"org_slug": "beta", **alpha_objects[name]()})
        assert client.post(url, {"role": Role.VIEWER}).status_code == 404, url
