"""GET /api/v1/consultations/<code>/themes: the current analysis of every free-text
question, with analysts' decisions applied."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from civicloop.analysis import selectors, services
from civicloop.consultations.api import _consultation, api_view


@api_view({"GET"})
def themes(request: HttpRequest, code: str) -> JsonResponse:
    consultation = _consultation(request, code)
    results: list[dict[str, Any]] = []
    for question in services.text_questions(consultation):
        view = selectors.analysis_view(consultation, question.key)
        if view is None:
            continue
        references = dict(
            consultation.responses.filter(
                pk__in=[q for t in view.themes for q in t.quotes]
                + [m for c in view.campaigns for m in c.members]
            ).values_list("pk", "reference")
        )
        results.append(
            {
                "question": question.key,
                "analysed_at": view.run.finished_at.isoformat() if view.run.finished_at else None,
                "responses": view.run.responses_analysed,
                "positions_from": "closed question" if view.run.stance_key else "sentiment",
                "representation": view.run.representation,
                "other": view.other,
                "themes": [
                    {
                        "id": t.code,
                        "label": t.label,
                        "description": t.description,
                        "keywords": t.keywords,
                        "count": t.count,
                        "share": round(t.share, 4),
                        "positions": t.positions,
                        "sentiment": t.sentiment,
                        "quotes": [references[q] for q in t.quotes if q in references],
                        "breakdowns": t.breakdowns,
                        "edited": bool(t.renamed or t.merged or t.origin == "analyst"),
                    }
                    for t in view.themes
                ],
                "campaigns": [
                    {
                        "id": c.campaign.number,
                        "template": c.campaign.template,
                        "count": len(c.members),
                        "responses": [references[m] for m in c.members if m in references],
                    }
                    for c in view.campaigns
                ],
            }
        )
    return JsonResponse({"results": results})
