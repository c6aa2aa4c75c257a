"""Background tasks for consultations; each is thin and calls a service."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.tasks import task
from django.utils.translation import gettext as _

from civicloop.consultations.models import Response
from civicloop.consultations.services import retention_apply

logger = logging.getLogger(__name__)


@task()
def send_receipt(response_id: int, email: str) -> None:
    response = Response.objects.select_related("consultation__organisation").get(pk=response_id)
    consultation = response.consultation
    send_mail(
        subject=_("Your response to %(title)s") % {"title": consultation.title},
        message=_(
            "Thank you for responding to “%(title)s” (%(org)s).\n\nYour reference number is %(ref)s. Quote it if you contact us about your response or ask us to erase it."
        )
        % {
            "title": consultation.title,
            "org": consultation.organisation.name,
            "ref": response.reference,
        },
        from_email=None,
        recipient_list=[email],
    )


@task()
def send_respondent_invitation(consultation_id: int, email: str, link: str) -> None:
    from civicloop.consultations.models import Consultation

    consultation = Consultation.objects.select_related("organisation").get(pk=consultation_id)
    send_mail(
        subject=_("%(org)s asks for your views: %(title)s")
        % {"org": consultation.organisation.name, "title": consultation.title},
        message=_(
            "%(org)s invites you to take part in “%(title)s”.\n\n%(summary)s\n\nYour personal link (it works once, for one response):\n%(link)s\n\nThe consultation closes %(closes)s."
        )
        % {
            "org": consultation.organisation.name,
            "title": consultation.title,
            "summary": consultation.summary,
            "link": link,
            "closes": consultation.closes_at.strftime("%d %B %Y") if consultation.closes_at else "",
        },
        from_email=None,
        recipient_list=[email],
    )


@task()
def apply_retention() -> int:
    """Erase personal data whose retention period has ended (run hourly by workers)."""
    done = retention_apply()
    if done:
        logger.info("Retention applied to %s consultations", done)
    return done
