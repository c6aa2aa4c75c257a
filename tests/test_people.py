from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from civicloop.accounts import services
from civicloop.accounts.models import AuditEvent, Invitation, Membership, User
from civicloop.accounts.roles import Role
from tests.conftest import PASSWORD, client_for

NEW_PASSWORD = "a long new password 42"


def _invite(client: Client, email: str, role: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("accounts:invite", args=["alpha"]), {"email": email, "role": role}
        )


def _link_from_last_email() -> str:
    match = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0).replace("http://testserver", "")


def test_manager_invites_and_newcomer_joins_with_new_account(
    alpha, member_of, django_capture_on_commit_callbacks
):
    manager = member_of(Role.MANAGER)
    response = _invite(
        client_for(manager.user),
        "Newcomer@Alpha.example",
        Role.ANALYST,
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newcomer@alpha.example"]
    assert "Alpha Council" in mail.outbox[0].subject

    link = _link_from_last_email()
    newcomer = Client()
    page = newcomer.get(link)
    assert page.status_code == 200
    assert "Create your account" in page.text
    response = newcomer.post(
        link, {"name": "New Comer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:dashboard", args=["alpha"])
    membership = Membership.objects.get(user__email="newcomer@alpha.example", organisation=alpha)
    assert membership.role == Role.ANALYST
    # The link works once.
    assert Client().get(link).status_code == 404
    assert AuditEvent.objects.filter(organisation=alpha, action="invitation.created").count() == 1
    assert AuditEvent.objects.filter(organisation=alpha, action="membership.created").exists()
    assert AuditEvent.objects.filter(organisation=alpha, action="invitation.accepted").exists()


def test_weak_password_is_refused_and_nothing_is_created(
    alpha, member_of, django_capture_on_commit_callbacks
):
    _invite(
        client_for(member_of(Role.MANAGER).user),
        "weak@alpha.example",
        Role.VIEWER,
        django_capture_on_commit_callbacks,
    )
    link = _link_from_last_email()
    response = Client().post(
        link, {"name": "Weak", "password1": "password", "password2": "password"}
    )
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert not User.objects.filter(email="weak@alpha.example").exists()


def test_existing_user_accepts_when_signed_in_with_invited_address(
    alpha, beta, charlie, alice_client, django_capture_on_commit_callbacks
):
    _invite(alice_client, charlie.email, Role.VIEWER, django_capture_on_commit_callbacks)
    link = _link_from_last_email()
    assert "Sign in to accept" in Client().get(link).text
    response = client_for(charlie).post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user=charlie, organisation=alpha).role == Role.VIEWER
    # Charlie now belongs to two organisations and can switch between them.
    home = client_for(charlie).get(reverse("accounts:home"))
    assert "Alpha Council" in home.text and "Beta Homes" in home.text


def test_invitation_for_someone_else_is_refused(
    alpha, bob, alice_client, django_capture_on_commit_callbacks
):
    _invite(alice_client, "someone@else.example", Role.VIEWER, django_capture_on_commit_callbacks)
    link = _link_from_last_email()
    response = client_for(bob).post(link)
    assert response.status_code == 200
    assert "someone@else.example" in response.text
    assert Invitation.objects.get(email="someone@else.example").status == Invitation.Status.PENDING


def test_manager_cannot_invite_an_owner(alpha, member_of):
    manager = member_of(Role.MANAGER)
    response = client_for(manager.user).post(
        reverse("accounts:invite", args=["alpha"]),
        {"email": "boss@alpha.example", "role": Role.OWNER},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Invitation.objects.exists()
    with pytest.raises(PermissionDenied):
        services.invitation_create(
            actor_membership=manager,
            email="boss@alpha.example",
            role=Role.OWNER,
            accept_url_template="{token}",
        )


def test_withdrawn_invitation_cannot_be_used(
    alpha, alice, alice_client, django_capture_on_commit_callbacks
):
    _invite(alice_client, "gone@alpha.example", Role.VIEWER, django_capture_on_commit_callbacks)
    link = _link_from_last_email()
    invitation = Invitation.objects.get(email="gone@alpha.example")
    alice_client.post(reverse("accounts:invitation_revoke", args=["alpha", invitation.code]))
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    response = Client().get(link)
    assert response.status_code == 404
    assert "cannot be used" in response.text


def test_inviting_an_existing_member_is_a_form_error(alpha, bob, alice_client):
    response = alice_client.post(
        reverse("accounts:invite", args=["alpha"]), {"email": bob.email, "role": Role.VIEWER}
    )
    assert response.status_code == 200
    assert "already a member" in response.text


def test_owner_changes_role_and_it_is_audited(alpha, bob, alice_client):
    bob_membership = Membership.objects.get(user=bob, organisation=alpha)
    url = reverse("accounts:member", args=["alpha", bob_membership.code])
    response = alice_client.post(url, {"action": "role", "role": Role.MANAGER})
    assert response.status_code == 302
    bob_membership.refresh_from_db()
    assert bob_membership.role == Role.MANAGER
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.before == {"role": "officer"} and event.after == {"role": "manager"}
    assert event.actor.email == "alice@alpha.example"


def test_last_owner_cannot_be_demoted_or_removed(alpha, alice, alice_client):
    own = Membership.objects.get(user=alice, organisation=alpha)
    url = reverse("accounts:member", args=["alpha", own.code])
    response = alice_client.post(url, {"action": "role", "role": Role.VIEWER})
    assert response.status_code == 200
    assert "at least one owner" in response.text
    response = alice_client.post(url, {"action": "remove"})
    assert "at least one owner" in response.text
    own.refresh_from_db()
    assert own.role == Role.OWNER


def test_manager_cannot_touch_an_owner(alpha, alice, member_of):
    manager = member_of(Role.MANAGER)
    owner_membership = Membership.objects.get(user=alice, organisation=alpha)
    with pytest.raises(PermissionDenied):
        services.membership_change_role(
            actor_membership=manager, membership=owner_membership, role=Role.VIEWER
        )
    response = client_for(manager.user).post(
        reverse("accounts:member", args=["alpha", owner_membership.code]), {"action": "remove"}
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=owner_membership.pk).exists()


def test_removed_member_loses_access(alpha, bob, alice_client):
    bob_membership = Membership.objects.get(user=bob, organisation=alpha)
    alice_client.post(
        reverse("accounts:member", args=["alpha", bob_membership.code]), {"action": "remove"}
    )
    assert client_for(bob).get(reverse("accounts:dashboard", args=["alpha"])).status_code == 404
    assert AuditEvent.objects.filter(action="membership.removed").count() == 1


def test_sign_in_and_sign_out(alpha, alice):
    client = Client(enforce_csrf_checks=False)
    response = client.post(
        reverse("accounts:signin"), {"username": alice.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).request["PATH_INFO"] == "/staff/alpha/"
    client.post(reverse("accounts:signout"))
    assert client.get(reverse("accounts:dashboard", args=["alpha"])).status_code == 302


def test_wrong_password_shows_error_summary(alpha, alice):
    response = Client().post(
        reverse("accounts:signin"), {"username": alice.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert "govuk-error-summary" in response.text
    assert "Enter a correct email address and password" in response.text


def test_password_reset_sends_a_working_link(alpha, alice):
    client = Client()
    client.post(reverse("accounts:password_reset"), {"email": alice.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.text
    response = client.post(
        form_page.request["PATH_INFO"],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.organisation == alpha and event.actor == alice
    assert NEW_PASSWORD not in str(event.after) + str(event.before)


def test_admin_is_for_platform_operators_only(alpha, alice):
    client = client_for(alice)  # an owner, but not a platform operator
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    operator = User.objects.create_superuser("ops@civicloop.example", "pw-operator-123", name="Ops")
    assert client_for(operator).get("/admin/").status_code == 200
    # Even the operator cannot edit or delete audit records through the admin.
    event = AuditEvent.objects.first()
    change = client_for(operator).post(
        f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert change.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_service_refuses_role_outside_the_list(alpha, alice):
    owner = Membership.objects.get(user=alice, organisation=alpha)
    with pytest.raises(ValidationError):
        services.invitation_create(
            actor_membership=owner,
            email="x@alpha.example",
            role="emperor",
            accept_url_template="{token}",
        )
