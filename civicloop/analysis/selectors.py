"""What an analysis looks like now: the current run with every decision applied."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field, replace

from django.db.models import Count, Max
from django.http import Http404

from civicloop.analysis.models import (
    AnalysisRun,
    Decision,
    MachineCampaign,
    MachineResult,
    MachineTheme,
    Theme,
)
from civicloop.analysis.services import position_labels
from civicloop.consultations.models import Consultation

POSITIONS = ("support", "oppose", "neutral")


@dataclass(slots=True)
class ResponseView:
    response_id: int
    themes: list[int]  # Theme pks, primary first
    position: str
    position_confirmed: bool
    sentiment: float
    campaign: int | None  # MachineCampaign pk, None when not (or no longer) in one
    campaign_confirmed: bool
    evidence_rich: bool
    language: str
    moved: bool
    answered: bool


@dataclass
class ThemeView:
    theme: Theme
    label: str
    description: str
    keywords: list[str]
    origin: str
    renamed: bool
    count: int = 0
    share: float = 0.0
    positions: dict[str, int] = field(default_factory=dict)
    sentiment: float = 0.0
    quotes: list[int] = field(default_factory=list)  # Response pks
    breakdowns: dict[str, dict[str, int]] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)  # labels of themes merged into this
    leading: str = ""  # the most common position, in the paired question's words

    @property
    def code(self) -> str:
        return self.theme.code

    @property
    def leading_position(self) -> str:
        return max(POSITIONS, key=lambda p: self.positions.get(p, 0))


@dataclass
class CampaignView:
    campaign: MachineCampaign
    members: list[int]  # Response pks still in the campaign
    rejected: list[int]  # Response pks an analyst took out
    confirmed: int


@dataclass
class AnalysisView:
    run: AnalysisRun
    themes: list[ThemeView]
    by_code: dict[str, ThemeView]
    responses: dict[int, ResponseView]
    campaigns: list[CampaignView]
    other: int  # answered, but in no theme
    unanswered: int  # gave no text for this question
    decisions: int
    position_labels: dict[str, str]


def current_run(consultation: Consultation, question_key: str) -> AnalysisRun | None:
    return AnalysisRun.objects.filter(
        consultation=consultation, question_key=question_key, is_current=True
    ).first()


def runs(consultation: Consultation, question_key: str) -> list[AnalysisRun]:
    return list(
        AnalysisRun.objects.filter(consultation=consultation, question_key=question_key)
        .select_related("job", "created_by")
        .order_by("-created_at", "-pk")[:20]
    )


def decisions(consultation: Consultation, question_key: str) -> list[Decision]:
    return list(
        Decision.objects.filter(consultation=consultation, question_key=question_key)
        .select_related("theme", "target_theme", "response", "actor")
        .order_by("created_at", "pk")
    )


def merged_into(consultation: Consultation, question_key: str) -> dict[int, int]:
    """Theme pk → the theme it now counts under, following chains of merges."""
    parent: dict[int, int] = {}
    for theme_id, target_id in Decision.objects.filter(
        consultation=consultation, question_key=question_key, kind=Decision.Kind.MERGE
    ).values_list("theme_id", "target_theme_id"):
        if theme_id is not None and target_id is not None:
            parent[theme_id] = target_id

    def root(pk: int) -> int:
        seen = set()
        while pk in parent and pk not in seen:
            seen.add(pk)
            pk = parent[pk]
        return pk

    return {pk: root(pk) for pk in parent}


# Built views, newest last, shared by the threads of one process. A view is rebuilt when
# the current run, its results or the decisions change (the key says which); language-
# dependent words are added per request, never stored.
_VIEWS: OrderedDict[tuple[str, int | None, int, int], AnalysisView] = OrderedDict()
_VIEWS_LOCK = threading.Lock()
VIEWS_KEPT = 4


def analysis_view(consultation: Consultation, question_key: str) -> AnalysisView | None:
    """The current run with every decision applied. Building it reads every result of
    the run (seconds at 100,000 responses), so a built view is kept per process until
    a decision or a new run changes it."""
    run = current_run(consultation, question_key)
    if run is None:
        return None
    stamp = Decision.objects.filter(consultation=consultation, question_key=question_key).aggregate(
        last=Max("pk"), count=Count("pk")
    )
    key = (run.code, stamp["last"], stamp["count"], MachineResult.objects.filter(run=run).count())
    with _VIEWS_LOCK:
        built = _VIEWS.get(key)
        if built is not None:
            _VIEWS.move_to_end(key)
    if built is None:
        built = _build_view(consultation, question_key, run)
        with _VIEWS_LOCK:
            _VIEWS[key] = built
            while len(_VIEWS) > VIEWS_KEPT:
                _VIEWS.popitem(last=False)
    labels = position_labels(consultation, run.stance_key)
    themes = [replace(t, leading=labels[t.leading_position]) for t in built.themes]
    return replace(
        built, themes=themes, by_code={t.code: t for t in themes}, position_labels=labels
    )


def _build_view(consultation: Consultation, question_key: str, run: AnalysisRun) -> AnalysisView:
    history = decisions(consultation, question_key)
    machine = {m.theme_id: m for m in MachineTheme.objects.filter(run=run)}
    theme_objects = {
        t.pk: t for t in Theme.objects.filter(consultation=consultation, question_key=question_key)
    }
    # Names: the machine's, then analysts' renames and splits in order.
    names: dict[int, tuple[str, str]] = {pk: (m.label, m.description) for pk, m in machine.items()}
    renamed: set[int] = set()
    moves: dict[int, int] = {}
    positions: dict[int, str] = {}
    membership: dict[int, bool] = {}
    for d in history:
        if d.kind == Decision.Kind.RENAME and d.theme_id:
            names[d.theme_id] = (d.value.get("label", ""), d.value.get("description", ""))
            renamed.add(d.theme_id)
        elif d.kind == Decision.Kind.SPLIT and d.target_theme_id:
            names.setdefault(d.target_theme_id, (d.value.get("label", ""), ""))
        elif d.kind == Decision.Kind.MOVE and d.response_id and d.target_theme_id:
            moves[d.response_id] = d.target_theme_id
        elif d.kind == Decision.Kind.POSITION and d.response_id:
            positions[d.response_id] = d.value.get("position", "neutral")
        elif d.kind == Decision.Kind.CAMPAIGN and d.response_id:
            membership[d.response_id] = bool(d.value.get("member"))
    merges = merged_into(consultation, question_key)

    def counted(pk: int) -> int:
        return merges.get(pk, pk)

    responses: dict[int, ResponseView] = {}
    machine_campaign: dict[int, int] = {}  # response pk -> MachineCampaign pk, as the run found
    # Tuples, not model instances: at 100,000 results this is most of the page's time.
    rows = MachineResult.objects.filter(run=run).values_list(
        "response_id",
        "themes",
        "position",
        "sentiment",
        "campaign_id",
        "evidence_rich",
        "language",
        "answered",
    )
    for response_id, found, position, sentiment, campaign_id, rich, language, answered in rows:
        themes = [counted(t) for t in found]
        moved = response_id in moves
        if moved:
            target = counted(moves[response_id])
            themes = [target, *(t for t in themes if t != target)]
        themes = list(dict.fromkeys(themes))  # merges can repeat a theme
        if campaign_id is not None:
            machine_campaign[response_id] = campaign_id
        member = membership.get(response_id)
        responses[response_id] = ResponseView(
            response_id=response_id,
            themes=themes,
            position=positions.get(response_id, position),
            position_confirmed=response_id in positions,
            sentiment=sentiment,
            campaign=campaign_id if member is not False else None,
            campaign_confirmed=member is True and campaign_id is not None,
            evidence_rich=rich,
            language=language,
            moved=moved,
            answered=answered,
        )
    live = {counted(pk) for pk in names if pk in theme_objects}
    views: dict[int, ThemeView] = {}
    for pk in live:
        label, description = names.get(pk, ("", ""))
        m = machine.get(pk)
        views[pk] = ThemeView(
            theme=theme_objects[pk],
            label=label or (m.label if m else ""),
            description=description or (m.description if m else ""),
            keywords=list(m.keywords) if m else [],
            origin=theme_objects[pk].origin,
            renamed=pk in renamed,
            positions=dict.fromkeys(POSITIONS, 0),
            breakdowns={},
        )
    for pk, target in merges.items():
        if target in views and pk in names:
            views[target].merged.append(names[pk][0])
    sentiment_sum: dict[int, float] = defaultdict(float)
    members_of: dict[int, list[int]] = defaultdict(list)
    other = unanswered = 0
    for view in responses.values():
        if not view.themes or view.themes[0] not in views:
            if view.answered:
                other += 1
            else:
                unanswered += 1
            continue
        theme = views[view.themes[0]]
        theme.count += 1
        theme.positions[view.position] = theme.positions.get(view.position, 0) + 1
        sentiment_sum[view.themes[0]] += view.sentiment
        members_of[view.themes[0]].append(view.response_id)
    total = max(sum(v.count for v in views.values()), 1)
    for pk, theme in views.items():
        theme.share = theme.count / total
        theme.sentiment = round(sentiment_sum[pk] / theme.count, 4) if theme.count else 0.0
        members = set(members_of[pk])
        sources = [machine[pk]] if pk in machine else []
        sources += [machine[p] for p, t in merges.items() if t == pk and p in machine]
        quotes = [q for m in sources for q in m.quotes if q in members]
        if len(quotes) < 3:  # analyst themes and thinned themes: first members
            quotes += [r for r in members_of[pk] if r not in quotes][: 3 - len(quotes)]
        theme.quotes = quotes[:5]
        for m in sources:
            for group, counts in m.breakdowns.items():
                into = theme.breakdowns.setdefault(group, {})
                for value, count in counts.items():
                    into[value] = into.get(value, 0) + count
    ordered = sorted(views.values(), key=lambda v: (-v.count, v.label))
    campaigns = []
    members_by_campaign: dict[int, list[int]] = defaultdict(list)
    rejected: dict[int, list[int]] = defaultdict(list)
    confirmed: Counter[int] = Counter()
    for response_id, campaign_id in machine_campaign.items():
        if membership.get(response_id) is False:
            rejected[campaign_id].append(response_id)
        else:
            members_by_campaign[campaign_id].append(response_id)
            if membership.get(response_id):
                confirmed[campaign_id] += 1
    for campaign in MachineCampaign.objects.filter(run=run):
        campaigns.append(
            CampaignView(
                campaign=campaign,
                members=members_by_campaign[campaign.pk],
                rejected=rejected[campaign.pk],
                confirmed=confirmed[campaign.pk],
            )
        )
    return AnalysisView(
        run=run,
        themes=ordered,
        by_code={v.code: v for v in ordered},
        responses=responses,
        campaigns=campaigns,
        other=other,
        unanswered=unanswered,
        decisions=len(history),
        position_labels={},
    )


def analysis_view_or_404(consultation: Consultation, question_key: str) -> AnalysisView:
    view = analysis_view(consultation, question_key)
    if view is None:
        raise Http404
    return view
