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


def test_demo_analyses_run_once(db, django_capture_on_commit_callbacks, monkeypatch):
    from civicloop.analysis.models import AnalysisRun
    from civicloop.analysis.selectors import analysis_view

    # The lexical representation keeps this plumbing test quick; the semantic path
    # has its own tests (engine/tests/test_semantic.py, tests/test_analysis.py).
    monkeypatch.setattr("civicloop_engine.themes.SEMANTIC_UP_TO", 0)
    call_command("load_demo")
    call_command("load_demo_consultations")
    with django_capture_on_commit_callbacks(execute=True):  # the worker's part, inline
        call_command("load_demo_analysis")
    runs = list(AnalysisRun.objects.all())
    assert len(runs) == 5 and all(r.status == "succeeded" and r.is_current for r in runs)
    assert {r.representation for r in runs} == {"lexical"}
    for run in runs:
        view = analysis_view(run.consultation, run.question_key)
        assert view is not None and view.themes
    call_command("load_demo_analysis")  # idempotent
    assert AnalysisRun.objects.count() == 5


def test_demo_guidance_and_posts(db):
    from civicloop.publishing.models import ElectionPeriod, Post

    call_command("load_demo")
    call_command("load_demo_guidance")
    call_command("load_demo_guidance")  # idempotent
    assert ElectionPeriod.objects.count() == 1
    statuses = sorted(Post.objects.values_list("status", flat=True))
    assert statuses == ["in_review", "ready"]
