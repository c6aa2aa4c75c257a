"""Writes for organisations, people and memberships. Each function is atomic,
validates before saving, writes an audit record and defers side effects (email)
until the transaction commits."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.access import require_capability
from civicloop.accounts.audit import audit_record, changed, snapshot
from civicloop.accounts.models import Invitation, Membership, Organisation, User, hash_token
from civicloop.accounts.roles import Capability, Role

ORGANISATION_FIELDS = [
    "name",
    "kind",
    "timezone",
    "office_opens",
    "office_closes",
    "office_days",
    "brand_colour",
    "logo",
]


@transaction.atomic
def organisation_create(
    *, actor: User | None, name: str, slug: str, kind: str, owner: User | None = None, **fields: Any
) -> Organisation:
    """Create an organisation; ``owner`` (if given) becomes its first owner."""
    organisation = Organisation(name=name, slug=slug, kind=kind, **fields)
    organisation.full_clean()
    organisation.save()
    audit_record(
        actor=actor,
        organisation=organisation,
        action="organisation.created",
        target=organisation,
        after=snapshot(organisation, ["name", "slug", *ORGANISATION_FIELDS[1:]]),
    )
    if owner is not None:
        membership_create(actor=actor, organisation=organisation, user=owner, role=Role.OWNER)
    return organisation


@transaction.atomic
def organisation_update(
    *, actor_membership: Membership, organisation: Organisation, **fields: Any
) -> Organisation:
    require_capability(actor_membership, Capability.CONFIGURE)
    unknown = set(fields) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ValueError(f"Not organisation settings: {', '.join(sorted(unknown))}")
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = snapshot(organisation, ORGANISATION_FIELDS)
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.full_clean()
    organisation.save()
    old, new = changed(before, snapshot(organisation, ORGANISATION_FIELDS))
    if new:
        audit_record(
            actor=actor_membership.user,
            organisation=organisation,
            action="organisation.updated",
            target=organisation,
            before=old,
            after=new,
        )
    return organisation


def _owners_left_after(membership: Membership) -> int:
    return (
        Membership.objects.filter(organisation=membership.organisation, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


def _check_role_change(actor_membership: Membership, old_role: str | None, new_role: str) -> None:
    require_capability(actor_membership, Capability.MANAGE_PEOPLE)
    if Role.OWNER in {old_role, new_role}:
        require_capability(actor_membership, Capability.MANAGE_OWNERS)
    if new_role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})


@transaction.atomic
def membership_create(
    *, actor: User | None, organisation: Organisation, user: User, role: str
) -> Membership:
    membership = Membership(organisation=organisation, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit_record(
        actor=actor,
        organisation=organisation,
        action="membership.created",
        target=membership,
        object_label=str(user),
        after={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_change_role(
    *, actor_membership: Membership, membership: Membership, role: str
) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organisation")
        .get(pk=membership.pk, organisation=actor_membership.organisation)
    )
    _check_role_change(actor_membership, membership.role, role)
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left_after(membership) == 0:
        raise ValidationError({"role": _("An organisation needs at least one owner.")})
    before = {"role": membership.role}
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    if before["role"] != role:
        audit_record(
            actor=actor_membership.user,
            organisation=membership.organisation,
            action="membership.role_changed",
            target=membership,
            object_label=str(membership.user),
            before=before,
            after={"role": role},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor_membership: Membership, membership: Membership) -> None:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organisation")
        .get(pk=membership.pk, organisation=actor_membership.organisation)
    )
    _check_role_change(actor_membership, membership.role, membership.role)
    if membership.role == Role.OWNER and _owners_left_after(membership) == 0:
        raise ValidationError(_("An organisation needs at least one owner."))
    audit_record(
        actor=actor_membership.user,
        organisation=membership.organisation,
        action="membership.removed",
        target=membership,
        object_label=str(membership.user),
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def invitation_create(
    *, actor_membership: Membership, email: str, role: str, accept_url_template: str
) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``. Returns the invitation and its one-time token;
    the email carrying the token is queued once the transaction commits.

    ``accept_url_template`` contains ``{token}``, replaced in the email."""
    _check_role_change(actor_membership, None, role)
    organisation = actor_membership.organisation
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    # One live invitation per address: a second invitation withdraws the first.
    for old in Invitation.objects.filter(
        organisation=organisation, email__iexact=email, status=Invitation.Status.PENDING
    ):
        invitation_revoke(actor_membership=actor_membership, invitation=old)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor_membership.user,
        expires_at=timezone.now() + dt.timedelta(days=Invitation.INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        actor=actor_membership.user,
        organisation=organisation,
        action="invitation.created",
        target=invitation,
        object_label=email,
        after={"email": email, "role": role},
    )
    from civicloop.accounts.tasks import send_invitation_email

    accept_url = accept_url_template.replace("{token}", token)
    transaction.on_commit(lambda: send_invitation_email.enqueue(invitation.pk, accept_url))
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor_membership: Membership, invitation: Invitation) -> None:
    require_capability(actor_membership, Capability.MANAGE_PEOPLE)
    invitation = Invitation.objects.select_for_update().get(
        pk=invitation.pk, organisation=actor_membership.organisation
    )
    if invitation.status != Invitation.Status.PENDING:
        return
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    audit_record(
        actor=actor_membership.user,
        organisation=invitation.organisation,
        action="invitation.revoked",
        target=invitation,
        object_label=invitation.email,
        before={"status": Invitation.Status.PENDING},
        after={"status": Invitation.Status.REVOKED},
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The pending, unexpired invitation for ``token``, or None."""
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_usable():
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organisation")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_usable():
        raise ValidationError(_("This invitation has expired or been used. Ask for a new one."))
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(
            _("This invitation was sent to %(email)s. Sign in with that address to accept it.")
            % {"email": invitation.email}
        )
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_at"])
    audit_record(
        actor=user,
        organisation=invitation.organisation,
        action="invitation.accepted",
        target=invitation,
        object_label=invitation.email,
        before={"status": Invitation.Status.PENDING},
        after={"status": Invitation.Status.ACCEPTED},
    )
    existing = Membership.objects.filter(organisation=invitation.organisation, user=user).first()
    if existing is not None:
        return existing
    return membership_create(
        actor=user, organisation=invitation.organisation, user=user, role=invitation.role
    )


@transaction.atomic
def user_password_reset(*, user: User, password: str) -> None:
    """Set a new password from a reset link; recorded against each of the person's
    organisations (never with the password itself)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    organisations: list[Organisation | None] = [
        m.organisation for m in Membership.objects.filter(user=user).select_related("organisation")
    ]
    for organisation in organisations or [None]:
        audit_record(
            actor=user,
            organisation=organisation,
            action="user.password_reset",
            target=user,
            object_code=str(user.pk),
        )


@transaction.atomic
def user_register_from_invitation(*, token: str, name: str, password: str) -> User:
    """Create the account for an invited address that has none yet, and accept."""
    invitation = invitation_get_by_token(token=token)
    if invitation is None:
        raise ValidationError(_("This invitation has expired or been used. Ask for a new one."))
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(_("An account with this address exists: sign in to accept."))
    user = User.objects.create_user(invitation.email, password, name=name)
    audit_record(
        actor=user,
        organisation=invitation.organisation,
        action="user.registered",
        target=user,
        object_code=str(user.pk),
        after={"email": user.email, "name": name},
    )
    invitation_accept(token=token, user=user)
    return user
