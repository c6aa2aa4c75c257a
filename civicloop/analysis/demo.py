"""Analyse the demo consultations' free-text questions, so a new user sees themes
on first sign-in. Runs in this process (the demo's worker is not up yet)."""

from __future__ import annotations

from civicloop.analysis import services
from civicloop.analysis.models import AnalysisRun
from civicloop.consultations.models import Consultation


def load_demo_analysis(progress: bool = False) -> int:
    done = 0
    for consultation in Consultation.objects.filter(
        organisation__slug__in=["ashworth", "riverside-homes"]
    ).select_related("organisation"):
        analyst = consultation.organisation.memberships.filter(role="analyst").first()
        if analyst is None:
            continue
        for question in services.text_questions(consultation):
            if AnalysisRun.objects.filter(
                consultation=consultation, question_key=question.key
            ).exists():
                continue
            run = AnalysisRun.objects.create(
                consultation=consultation,
                question_key=question.key,
                stance_key=services.default_stance_key(consultation, question),
                created_by=analyst.user,
            )
            services.analysis_execute(run, lambda percent, message: None)
            done += 1
            if progress:
                print(f"  analysed “{question.text}” ({consultation.title})")
    return done
