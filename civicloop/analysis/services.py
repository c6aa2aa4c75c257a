"""Running the engine on a consultation's free-text answers, the sync layer that
stores its output, and the analyst decisions layered on top."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Membership, User
from civicloop.analysis.models import (
    POSITION_CHOICES,
    AnalysisRun,
    Decision,
    MachineCampaign,
    MachineResult,
    MachineTheme,
    Theme,
)
from civicloop.consultations import questions as qt
from civicloop.consultations.models import Consultation, Question, Response

logger = logging.getLogger(__name__)

TEXT_TYPES = (qt.QuestionType.FREE_TEXT, qt.QuestionType.YES_NO_WHY)
STANCE_TYPES = (qt.QuestionType.AGREE_SCALE, qt.QuestionType.YES_NO_WHY)
GROUP_TYPES = (
    qt.QuestionType.AGE,
    qt.QuestionType.SEX,
    qt.QuestionType.GENDER,
    qt.QuestionType.ETHNICITY,
    qt.QuestionType.DISABILITY,
    qt.QuestionType.TENURE,
    qt.QuestionType.AREA,
)
# A re-run's theme keeps an earlier theme's identity (and so its decisions) when at
# least this share of their responses is the same (Jaccard of the two member sets).
SAME_THEME_OVERLAP = 0.3
MAX_THEMES = 60


def text_questions(consultation: Consultation) -> list[Question]:
    return list(
        consultation.questions.filter(type__in=TEXT_TYPES).order_by("page__position", "position")
    )


def stance_questions(consultation: Consultation) -> list[Question]:
    return list(
        consultation.questions.filter(type__in=STANCE_TYPES).order_by("page__position", "position")
    )


def default_stance_key(consultation: Consultation, question: Question) -> str:
    """The answer paired with a free-text question: its own yes/no, else the nearest
    agree/disagree question before it on the same page."""
    if question.type == qt.QuestionType.YES_NO_WHY:
        return question.key
    before = (
        consultation.questions.filter(
            page=question.page, position__lt=question.position, type__in=STANCE_TYPES
        )
        .order_by("-position")
        .first()
    )
    return before.key if before else ""


def position_labels(consultation: Consultation, stance_key: str) -> dict[str, str]:
    """What support / oppose / neutral mean for a run, in the paired question's own
    words: "Agree"/"Disagree" for a scale, "Yes"/"No" for a yes-or-no question, and
    the tone of the answer when positions came from sentiment."""
    question = consultation.questions.filter(key=stance_key).first() if stance_key else None
    if question is None:
        return {
            "support": _("Positive tone"),
            "oppose": _("Negative tone"),
            "neutral": _("Neutral tone"),
        }
    if question.type == qt.QuestionType.YES_NO_WHY:
        return {"support": _("Yes"), "oppose": _("No"), "neutral": _("No answer")}
    return {
        "support": _("Agree"),
        "oppose": _("Disagree"),
        "neutral": _("Neither or no answer"),
    }


def _question(consultation: Consultation, key: str, types: tuple[str, ...]) -> Question:
    question = consultation.questions.filter(key=key, type__in=types).first()
    if question is None:
        raise ValidationError(_("There is no such question in this consultation."))
    return question


@transaction.atomic
def analysis_request(
    *,
    actor_membership: Membership,
    consultation: Consultation,
    question_key: str,
    stance_key: str = "",
    themes: int | None = None,
) -> AnalysisRun:
    """Queue an analysis of one free-text question as a background job."""
    from civicloop.jobs.models import Job
    from civicloop.jobs.services import job_start

    question = _question(consultation, question_key, TEXT_TYPES)
    if stance_key:
        _question(consultation, stance_key, STANCE_TYPES)
    if themes is not None and not 1 <= themes <= MAX_THEMES:
        raise ValidationError(
            _("Ask for between 1 and %(max)s themes, or leave it blank.") % {"max": MAX_THEMES}
        )
    busy = AnalysisRun.objects.filter(
        consultation=consultation,
        question_key=question.key,
        status__in=[AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING],
    ).exists()
    if busy:
        raise ValidationError(_("This question is already being analysed. Wait for it to finish."))
    run = AnalysisRun.objects.create(
        consultation=consultation,
        question_key=question.key,
        stance_key=stance_key,
        requested_themes=themes,
        created_by=actor_membership.user,
    )
    next_url = reverse(
        "analysis:question",
        kwargs={
            "org_slug": consultation.organisation.slug,
            "code": consultation.code,
            "key": question.key,
        },
    )
    job = job_start(
        actor_membership=actor_membership,
        kind=Job.Kind.ANALYSIS,
        params={"run": run.code, "next": next_url},
    )
    run.job = job
    run.save(update_fields=["job"])
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="analysis.requested",
        target=run,
        after={"question": question.key, "stance": stance_key, "themes": themes},
    )
    return run


@dataclass
class EngineInput:
    responses: list[Response]
    texts: list[str]
    stances: list[str | None] | None
    groups: dict[str, list[str | None]]


def answer_text(value: Any) -> str:
    """The free text of a stored answer (for yes/no-and-why, the reason)."""
    if isinstance(value, dict):
        return str(value.get("why") or "")
    return "" if value is None else str(value)


def _stance(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("answer")
    return None if value in (None, "") else str(value)


def engine_input(run: AnalysisRun) -> EngineInput:
    """Every response not erased, oldest first: the free text, the paired closed
    answer, and the channel and demographic answers to break themes down by."""
    consultation = run.consultation
    responses = list(
        consultation.responses.filter(erased_at__isnull=True).order_by("submitted_at", "pk")
    )
    group_questions = list(consultation.questions.filter(type__in=GROUP_TYPES))
    groups: dict[str, list[str | None]] = {"channel": [r.channel for r in responses]}
    for question in group_questions:
        groups[question.key] = [_stance(r.answers.get(question.key)) for r in responses]
    return EngineInput(
        responses=responses,
        texts=[answer_text(r.answers.get(run.question_key)) for r in responses],
        stances=[_stance(r.answers.get(run.stance_key)) for r in responses]
        if run.stance_key
        else None,
        groups=groups,
    )


def analysis_execute(run: AnalysisRun, progress: Callable[[int, str], None]) -> None:
    """Run the engine and store its output (the task calls this)."""
    from civicloop_engine.pipeline import analyse

    AnalysisRun.objects.filter(pk=run.pk).update(status=AnalysisRun.Status.RUNNING)
    data = engine_input(run)
    analysis = analyse(
        data.texts,
        [str(r.pk) for r in data.responses],
        data.stances,
        groups=data.groups,
        n_themes=run.requested_themes,
        progress=lambda percent, message: progress(min(percent, 95), message),
    )
    progress(96, "Saving the results")
    analysis_sync(run, analysis)


def _match_themes(
    new_members: dict[int, set[int]], old_members: dict[int, set[int]]
) -> dict[int, int]:
    """Engine theme id → existing Theme pk, greedily by overlap, each used once."""
    pairs = []
    for new_id, members in new_members.items():
        for theme_pk, old in old_members.items():
            union = len(members | old)
            overlap = len(members & old) / union if union else 0.0
            if overlap >= SAME_THEME_OVERLAP:
                pairs.append((overlap, new_id, theme_pk))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _overlap, new_id, theme_pk in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if new_id not in matched and theme_pk not in used:
            matched[new_id] = theme_pk
            used.add(theme_pk)
    return matched


@transaction.atomic
def analysis_sync(run: AnalysisRun, analysis: Any) -> None:
    """Write one engine Analysis for ``run`` in a single transaction and make it the
    current run. Themes that share most of their responses with the previous run's
    keep their identity, so analysts' decisions carry over."""
    consultation = run.consultation
    previous = (
        AnalysisRun.objects.select_for_update()
        .filter(consultation=consultation, question_key=run.question_key, is_current=True)
        .first()
    )
    old_members: dict[int, set[int]] = {}
    if previous is not None:
        for response_id, themes in MachineResult.objects.filter(run=previous).values_list(
            "response_id", "themes"
        ):
            if themes:
                old_members.setdefault(themes[0], set()).add(response_id)
    new_members: dict[int, set[int]] = {}
    for result in analysis.responses:
        if result.theme_ids:
            new_members.setdefault(result.theme_ids[0], set()).add(int(result.response_id))
    matched = _match_themes(new_members, old_members)
    theme_pk: dict[int, int] = {}
    for item in analysis.themes:
        engine_id = item.theme.id
        if engine_id in matched:
            theme_pk[engine_id] = matched[engine_id]
        else:
            theme_pk[engine_id] = Theme.objects.create(
                consultation=consultation, question_key=run.question_key
            ).pk
    MachineTheme.objects.bulk_create(
        [
            MachineTheme(
                run=run,
                theme_id=theme_pk[item.theme.id],
                rank=rank,
                label=item.theme.label[:300],
                description=item.theme.description[:500],
                keywords=list(item.theme.keywords),
                count=item.theme.count,
                positions=item.positions,
                sentiment=item.sentiment,
                quotes=[int(q) for q in item.quotes],
                breakdowns=item.breakdowns,
            )
            for rank, item in enumerate(analysis.themes)
        ]
    )
    campaigns = MachineCampaign.objects.bulk_create(
        [
            MachineCampaign(
                run=run,
                number=c.id,
                template=c.template,
                count=c.size,
                exact_copies=c.exact_copies,
            )
            for c in analysis.campaigns
        ]
    )
    campaign_by_number = {c.number: c for c in campaigns}
    if any(c.pk is None for c in campaigns):  # backends that do not return ids
        campaign_by_number = {c.number: c for c in MachineCampaign.objects.filter(run=run)}
    MachineResult.objects.bulk_create(
        [
            MachineResult(
                run=run,
                response_id=int(r.response_id),
                themes=[theme_pk[t] for t in r.theme_ids],
                position=r.position,
                sentiment=r.sentiment,
                campaign=campaign_by_number.get(r.campaign_id)
                if r.campaign_id is not None
                else None,
                evidence_rich=r.evidence_rich,
                language=r.language[:8],
                answered=not r.empty,
            )
            for r in analysis.responses
        ],
        batch_size=2000,
    )
    if previous is not None:
        AnalysisRun.objects.filter(pk=previous.pk).update(is_current=False)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisRun.Status.SUCCEEDED,
        is_current=True,
        representation=analysis.representation,
        responses_analysed=len(analysis.responses),
        notes=analysis.notes,
        languages=analysis.languages,
        finished_at=timezone.now(),
    )
    audit_record(
        actor=None,
        organisation=consultation.organisation,
        action="analysis.completed",
        target=run,
        after={
            "question": run.question_key,
            "responses": len(analysis.responses),
            "themes": len(analysis.themes),
            "campaigns": len(analysis.campaigns),
        },
    )


def analysis_failed(run: AnalysisRun) -> None:
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisRun.Status.FAILED, finished_at=timezone.now()
    )


# Decisions ---------------------------------------------------------------------------


def _theme(consultation: Consultation, question_key: str, code: str) -> Theme:
    theme = Theme.objects.filter(
        consultation=consultation, question_key=question_key, code=code
    ).first()
    if theme is None:
        raise ValidationError(_("That theme is not part of this question's analysis."))
    return theme


def _responses(consultation: Consultation, pks: list[int]) -> list[Response]:
    found = list(consultation.responses.filter(pk__in=pks))
    if len(found) != len(set(pks)):
        raise ValidationError(_("Some of those responses are not part of this consultation."))
    return found


def _decide(
    *,
    actor: User,
    consultation: Consultation,
    question_key: str,
    kind: str,
    theme: Theme | None = None,
    target_theme: Theme | None = None,
    response: Response | None = None,
    value: dict[str, Any] | None = None,
) -> Decision:
    decision = Decision.objects.create(
        consultation=consultation,
        question_key=question_key,
        kind=kind,
        theme=theme,
        target_theme=target_theme,
        response=response,
        value=value or {},
        actor=actor,
    )
    audit_record(
        actor=actor,
        organisation=consultation.organisation,
        action=f"analysis.{kind}",
        target=consultation,
        after={
            "question": question_key,
            "theme": theme.code if theme else None,
            "target_theme": target_theme.code if target_theme else None,
            "response": response.reference if response else None,
            **(value or {}),
        },
    )
    return decision


@transaction.atomic
def theme_rename(
    *,
    actor: User,
    consultation: Consultation,
    question_key: str,
    code: str,
    label: str,
    description: str,
) -> Decision:
    label, description = label.strip(), description.strip()
    if not label:
        raise ValidationError(_("Enter a name for the theme."))
    theme = _theme(consultation, question_key, code)
    return _decide(
        actor=actor,
        consultation=consultation,
        question_key=question_key,
        kind=Decision.Kind.RENAME,
        theme=theme,
        value={"label": label[:300], "description": description[:500]},
    )


@transaction.atomic
def theme_merge(
    *, actor: User, consultation: Consultation, question_key: str, code: str, into: str
) -> Decision:
    if code == into:
        raise ValidationError(_("Choose a different theme to merge into."))
    theme = _theme(consultation, question_key, code)
    target = _theme(consultation, question_key, into)
    from civicloop.analysis.selectors import merged_into

    if merged_into(consultation, question_key).get(target.pk, target.pk) == theme.pk:
        raise ValidationError(_("That theme has already been merged into this one."))
    return _decide(
        actor=actor,
        consultation=consultation,
        question_key=question_key,
        kind=Decision.Kind.MERGE,
        theme=theme,
        target_theme=target,
    )


@transaction.atomic
def theme_split(
    *,
    actor: User,
    consultation: Consultation,
    question_key: str,
    code: str,
    label: str,
    response_pks: list[int],
) -> Theme:
    """Make a new analyst theme from some of a theme's responses."""
    label = label.strip()
    if not label:
        raise ValidationError(_("Enter a name for the new theme."))
    if not response_pks:
        raise ValidationError(_("Select the responses that belong in the new theme."))
    source = _theme(consultation, question_key, code)
    responses = _responses(consultation, response_pks)
    new = Theme.objects.create(
        consultation=consultation, question_key=question_key, origin=Theme.Origin.ANALYST
    )
    _decide(
        actor=actor,
        consultation=consultation,
        question_key=question_key,
        kind=Decision.Kind.SPLIT,
        theme=source,
        target_theme=new,
        value={"label": label[:300], "responses": len(responses)},
    )
    _move(actor, consultation, question_key, responses, new)
    return new


def _move(
    actor: User, consultation: Consultation, question_key: str, responses: list[Response], to: Theme
) -> None:
    for response in responses:
        _decide(
            actor=actor,
            consultation=consultation,
            question_key=question_key,
            kind=Decision.Kind.MOVE,
            target_theme=to,
            response=response,
        )


@transaction.atomic
def responses_move(
    *, actor: User, consultation: Consultation, question_key: str, response_pks: list[int], to: str
) -> int:
    if not response_pks:
        raise ValidationError(_("Select at least one response to move."))
    target = _theme(consultation, question_key, to)
    _move(actor, consultation, question_key, _responses(consultation, response_pks), target)
    return len(response_pks)


@transaction.atomic
def response_position_set(
    *, actor: User, consultation: Consultation, question_key: str, response_pk: int, position: str
) -> Decision:
    if position not in dict(POSITION_CHOICES):
        raise ValidationError(_("Choose support, oppose or neutral."))
    (response,) = _responses(consultation, [response_pk])
    return _decide(
        actor=actor,
        consultation=consultation,
        question_key=question_key,
        kind=Decision.Kind.POSITION,
        response=response,
        value={"position": position},
    )


@transaction.atomic
def campaign_membership_set(
    *,
    actor: User,
    consultation: Consultation,
    question_key: str,
    response_pks: list[int],
    member: bool,
) -> int:
    if not response_pks:
        raise ValidationError(_("Select at least one response."))
    for response in _responses(consultation, response_pks):
        _decide(
            actor=actor,
            consultation=consultation,
            question_key=question_key,
            kind=Decision.Kind.CAMPAIGN,
            response=response,
            value={"member": member},
        )
    return len(response_pks)
