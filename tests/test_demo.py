from __future__ import annotations

from django.core.management import call_command

from civicloop.consultations.models import Consultation, Response
from civicloop.consultations.services import clean_answers


def test_demo_consultations_hold_only_valid_answers(db):
    call_command("load_demo")
    call_command("load_demo_consultations")
    assert Consultation.objects.count() == 3
    assert Response.objects.count() >= 700
    for response in Response.objects.select_related("consultation"):
        cleaned = clean_answers(response.consultation, response.answers)  # raises if invalid
        assert cleaned == response.answers, response.answers
    call_command("load_demo_consultations")  # idempotent
    assert Consultation.objects.count() == 3
