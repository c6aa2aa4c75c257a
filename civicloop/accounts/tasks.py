"""Background tasks for accounts. Thin: each calls into mail or a service."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string

from civicloop.accounts.models import Invitation


@task()
def send_invitation_email(invitation_id: int, accept_url: str) -> None:
    invitation = Invitation.objects.select_related("organisation", "invited_by").get(
        pk=invitation_id
    )
    if invitation.status != Invitation.Status.PENDING:
        return
    context = {"invitation": invitation, "accept_url": accept_url}
    send_mail(
        subject=f"You are invited to {invitation.organisation.name} on civicloop",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )
