"""Staff pages for analysis: start a run, read themes split by position, and record
analysts' decisions (rename, merge, split, move, position, campaign membership)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from civicloop.accounts.access import org_view
from civicloop.accounts.forms import add_service_errors
from civicloop.accounts.roles import Capability
from civicloop.analysis import selectors, services
from civicloop.analysis.forms import (
    AnalyseForm,
    PositionForm,
    RenameForm,
    SplitForm,
    ThemeChoiceForm,
    selected_ids,
)
from civicloop.analysis.models import Theme
from civicloop.consultations import questions as qt
from civicloop.consultations import selectors as consultation_selectors
from civicloop.consultations.models import Consultation, Question, Response
from civicloop.lib.spreadsheet import safe_cell


def _consultation(request: HttpRequest, code: str) -> Consultation:
    return consultation_selectors.consultation_get(organisation=request.organisation, code=code)  # type: ignore[attr-defined]


def _text_question(consultation: Consultation, key: str) -> Question:
    question = next((q for q in services.text_questions(consultation) if q.key == key), None)
    if question is None:
        raise Http404
    return question


def _to_question(consultation: Consultation, key: str) -> HttpResponse:
    return redirect(
        "analysis:question",
        org_slug=consultation.organisation.slug,
        code=consultation.code,
        key=key,
    )


def _to_theme(consultation: Consultation, key: str, theme: str) -> HttpResponse:
    return redirect(
        "analysis:theme",
        org_slug=consultation.organisation.slug,
        code=consultation.code,
        key=key,
        theme=theme,
    )


def _answer_text(response: Any, key: str) -> str:
    return services.answer_text(response.answers.get(key))


@org_view()
def index(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    rows = []
    for question in services.text_questions(consultation):
        run = selectors.runs(consultation, question.key)
        rows.append({"question": question, "latest": run[0] if run else None})
    return render(
        request,
        "analysis/index.html",
        {"consultation": consultation, "rows": rows},
    )


def _analyse_form(consultation: Consultation, question: Question, data: Any = None) -> AnalyseForm:
    choices = [(q.key, q.text) for q in services.stance_questions(consultation)]
    return AnalyseForm(
        data,
        stance_choices=choices,
        initial={"stance_key": services.default_stance_key(consultation, question)},
    )


@org_view(write=Capability.ANALYSE)
def question(request: HttpRequest, code: str, key: str) -> HttpResponse:
    consultation = _consultation(request, code)
    item = _text_question(consultation, key)
    form = _analyse_form(consultation, item, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.analysis_request(
                actor_membership=request.membership,  # type: ignore[attr-defined]
                consultation=consultation,
                question_key=item.key,
                stance_key=form.cleaned_data["stance_key"],
                themes=form.cleaned_data["themes"],
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Analysis started. This page shows its progress."))
            return _to_question(consultation, item.key)
    history = selectors.runs(consultation, item.key)
    pending = next((r for r in history if r.status in ("queued", "running")), None)
    view = selectors.analysis_view(consultation, item.key)
    return render(
        request,
        "analysis/question.html",
        {
            "consultation": consultation,
            "question": item,
            "form": form,
            "view": view,
            "pending": pending,
            "history": history,
            "can_analyse": request.membership.can(Capability.ANALYSE),  # type: ignore[attr-defined]
        },
    )


@org_view(write=Capability.ANALYSE)
def theme(request: HttpRequest, code: str, key: str, theme: str) -> HttpResponse:
    consultation = _consultation(request, code)
    item = _text_question(consultation, key)
    view = selectors.analysis_view_or_404(consultation, item.key)
    current = view.by_code.get(theme)
    if current is None:
        # A merged theme's page sends people to the theme it now counts under.
        merged = Theme.objects.filter(
            consultation=consultation, question_key=item.key, code=theme
        ).first()
        target = selectors.merged_into(consultation, item.key).get(merged.pk) if merged else None
        if target is None:
            raise Http404
        return _to_theme(consultation, item.key, Theme.objects.get(pk=target).code)
    others = [(t.code, t.label) for t in view.themes if t.code != current.code]
    post = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "") if post else ""
    rename = RenameForm(
        post if action == "rename" else None,
        initial={"label": current.label, "description": current.description},
        prefix="rename",
    )
    merge = ThemeChoiceForm(
        post if action == "merge" else None,
        themes=others,
        label=_("Merge this theme into"),
        prefix="merge",
    )
    move = ThemeChoiceForm(
        post if action == "move" else None,
        themes=others,
        label=_("Move the selected responses to"),
        prefix="move",
    )
    split = SplitForm(post if action == "split" else None, prefix="split")
    position = PositionForm(post if action == "position" else None, prefix="position")
    position.fields["position"].choices = list(view.position_labels.items())  # type: ignore[attr-defined]
    failed = None
    if post:
        forms_by_action: dict[str, Any] = {
            "rename": rename,
            "merge": merge,
            "move": move,
            "split": split,
            "position": position,
        }
        form = forms_by_action.get(action)
        if form is not None and form.is_valid():
            actor: Any = request.user
            chosen = selected_ids(request.POST)
            common: dict[str, Any] = {
                "actor": actor,
                "consultation": consultation,
                "question_key": item.key,
            }
            try:
                if action == "rename":
                    services.theme_rename(
                        **common,
                        code=current.code,
                        label=form.cleaned_data["label"],
                        description=form.cleaned_data["description"],
                    )
                    messages.success(request, _("Theme renamed."))
                elif action == "merge":
                    services.theme_merge(
                        **common, code=current.code, into=form.cleaned_data["theme"]
                    )
                    messages.success(request, _("Theme merged. Its responses now count here."))
                    return _to_theme(consultation, item.key, form.cleaned_data["theme"])
                elif action == "move":
                    moved = services.responses_move(
                        **common, response_pks=chosen, to=form.cleaned_data["theme"]
                    )
                    messages.success(request, _("%(n)s responses moved.") % {"n": moved})
                elif action == "split":
                    new = services.theme_split(
                        **common,
                        code=current.code,
                        label=form.cleaned_data["new_label"],
                        response_pks=chosen,
                    )
                    messages.success(request, _("New theme made from the selected responses."))
                    return _to_theme(consultation, item.key, new.code)
                elif action == "position":
                    if not chosen:
                        raise ValidationError(_("Select at least one response."))
                    for pk in chosen:
                        services.response_position_set(
                            **common, response_pk=pk, position=form.cleaned_data["position"]
                        )
                    messages.success(request, _("Positions recorded."))
            except ValidationError as exc:
                add_service_errors(exc, form)
            else:
                return _to_theme(consultation, item.key, current.code)
        elif form is None:
            messages.error(request, _("Choose what to do."))
        failed = form
    members = [r for r in view.responses.values() if r.themes and r.themes[0] == current.theme.pk]
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    texts = {r.pk: r for r in consultation.responses.filter(pk__in=[m.response_id for m in page])}
    rows = [
        {
            "result": m,
            "response": texts[m.response_id],
            "text": _answer_text(texts[m.response_id], item.key),
            "position": view.position_labels.get(m.position, m.position),
        }
        for m in page
        if m.response_id in texts
    ]
    quotes = {
        r.pk: _answer_text(r, item.key)
        for r in consultation.responses.filter(pk__in=current.quotes)
    }
    breakdowns = _readable_breakdowns(consultation, current.breakdowns)
    return render(
        request,
        "analysis/theme.html",
        {
            "consultation": consultation,
            "question": item,
            "view": view,
            "theme": current,
            "quotes": [(pk, quotes[pk]) for pk in current.quotes if pk in quotes],
            "breakdowns": breakdowns,
            "rows": rows,
            "page": page,
            "rename": rename,
            "merge": merge,
            "move": move,
            "split": split,
            "position": position,
            "failed": failed,
        },
    )


def _readable_breakdowns(
    consultation: Consultation, breakdowns: dict[str, dict[str, int]]
) -> list[tuple[str, list[tuple[str, int]]]]:
    """Group and value codes in the words people saw: "Age band: 65 to 74: 12"."""
    questions = {q.key: q for q in consultation.questions.all()}
    readable = []
    for group, counts in breakdowns.items():
        if group == "channel":
            name, options = str(_("Channel")), dict(Response.Channel.choices)
        elif group in questions:
            question = questions[group]
            name, options = question.text, dict(qt.options_for(question))
        else:
            name, options = group, {}
        values = sorted(counts.items(), key=lambda item: -item[1])
        readable.append((name, [(str(options.get(v, v)), n) for v, n in values]))
    return readable


@org_view(write=Capability.ANALYSE)
def campaign(request: HttpRequest, code: str, key: str, number: int) -> HttpResponse:
    consultation = _consultation(request, code)
    item = _text_question(consultation, key)
    view = selectors.analysis_view_or_404(consultation, item.key)
    found = next((c for c in view.campaigns if c.campaign.number == number), None)
    if found is None:
        raise Http404
    if request.method == "POST":
        choice = request.POST.get("action")
        try:
            if choice not in ("confirm", "reject", "restore"):
                raise ValidationError(_("Choose confirm or reject."))
            services.campaign_membership_set(
                actor=request.user,  # type: ignore[arg-type]
                consultation=consultation,
                question_key=item.key,
                response_pks=selected_ids(request.POST),
                member=choice != "reject",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Campaign membership recorded."))
        return redirect(request.path)
    rejected = found.rejected
    page = Paginator(found.members, 50).get_page(request.GET.get("page"))
    texts = {r.pk: r for r in consultation.responses.filter(pk__in=[*page.object_list, *rejected])}
    return render(
        request,
        "analysis/campaign.html",
        {
            "consultation": consultation,
            "question": item,
            "campaign": found,
            "page": page,
            "rows": [
                {
                    "response": texts[pk],
                    "text": _answer_text(texts[pk], item.key),
                    "result": view.responses[pk],
                }
                for pk in page
                if pk in texts
            ],
            "rejected": [
                {"response": texts[pk], "text": _answer_text(texts[pk], item.key)}
                for pk in rejected
                if pk in texts
            ],
        },
    )


@org_view()
def history(request: HttpRequest, code: str, key: str) -> HttpResponse:
    consultation = _consultation(request, code)
    item = _text_question(consultation, key)
    return render(
        request,
        "analysis/history.html",
        {
            "consultation": consultation,
            "question": item,
            "decisions": list(reversed(selectors.decisions(consultation, item.key))),
            "runs": selectors.runs(consultation, item.key),
        },
    )


@org_view(read=Capability.REPORT)
def themes_csv(request: HttpRequest, code: str, key: str) -> HttpResponse:
    consultation = _consultation(request, code)
    item = _text_question(consultation, key)
    view = selectors.analysis_view_or_404(consultation, item.key)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="themes-{consultation.code}-{item.key}.csv"'
    )
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            "theme",
            "description",
            "keywords",
            "responses",
            "share",
            "support",
            "oppose",
            "neutral",
            "sentiment",
            "edited by an analyst",
        ]
    )
    for t in view.themes:
        writer.writerow(
            [
                safe_cell(t.label),
                safe_cell(t.description),
                safe_cell(", ".join(t.keywords)),
                t.count,
                f"{t.share:.3f}",
                t.positions.get("support", 0),
                t.positions.get("oppose", 0),
                t.positions.get("neutral", 0),
                t.sentiment,
                "yes" if t.renamed or t.origin == "analyst" or t.merged else "no",
            ]
        )
    writer.writerow(["other (no theme)", "", "", view.other, "", "", "", "", "", ""])
    writer.writerow(["no answer", "", "", view.unanswered, "", "", "", "", "", ""])
    return response
