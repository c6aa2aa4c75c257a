"""Analyse the demo consultations' free-text questions, so a new user sees themes.

By default each analysis is queued as a job: `civicloop demo` starts serving at
once and its worker fills the results in within a minute or two (the pages show
the progress). ``now=True`` runs them in this process instead."""

from __future__ import annotations

from civicloop.analysis import services
from civicloop.analysis.models import AnalysisRun
from civicloop.consultations.models import Consultation


def load_demo_analysis(*, now: bool = False) -> int:
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
            stance = services.default_stance_key(consultation, question)
            if now:
                run = AnalysisRun.objects.create(
                    consultation=consultation,
                    question_key=question.key,
                    stance_key=stance,
                    created_by=analyst.user,
                )
                services.analysis_execute(run, lambda percent, message: None)
            else:
                services.analysis_request(
                    actor_membership=analyst,
                    consultation=consultation,
                    question_key=question.key,
                    stance_key=stance,
                )
            done += 1
    return done
