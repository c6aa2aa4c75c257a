"""Theme results as extra columns in the consultation's response exports."""

from __future__ import annotations

from collections.abc import Callable

from civicloop.analysis import selectors, services
from civicloop.consultations.models import Consultation, Response

SUFFIXES = [
    ("theme", "Main theme, as analysts left it"),
    ("other themes", "Other themes the answer touches, ';'-separated"),
    ("position", "support, oppose or neutral"),
    ("position confirmed", "yes if an analyst confirmed or changed the position"),
    ("sentiment", "Tone of the answer from -1 (negative) to 1 (positive)"),
    ("campaign", "Number of the organised campaign the answer belongs to, if any"),
    ("evidence", "yes if the answer has specific facts, figures or experience"),
    ("language", "Language detected (ISO 639-1; und = could not tell)"),
]


def theme_columns(
    consultation: Consultation,
) -> tuple[list[str], list[str], Callable[[Response], list[str]]]:
    views = []
    for question in services.text_questions(consultation):
        view = selectors.analysis_view(consultation, question.key)
        if view is not None:
            views.append((question.key, view))
    columns = [f"{key}: {suffix}" for key, _ in views for suffix, _ in SUFFIXES]
    descriptions = [f"{text} (analysis of '{key}')" for key, _ in views for _, text in SUFFIXES]
    labels = {key: {t.theme.pk: t.label for t in view.themes} for key, view in views}
    numbers = {
        key: {c.campaign.pk: str(c.campaign.number) for c in view.campaigns} for key, view in views
    }

    def values(response: Response) -> list[str]:
        cells: list[str] = []
        for key, view in views:
            result = view.responses.get(response.pk)
            if result is None:  # arrived after the analysis ran
                cells.extend([""] * len(SUFFIXES))
                continue
            names = [labels[key].get(t, "") for t in result.themes]
            cells.extend(
                [
                    names[0] if names else "",
                    ";".join(names[1:]),
                    result.position,
                    "yes" if result.position_confirmed else "",
                    f"{result.sentiment:.3f}",
                    numbers[key].get(result.campaign, "") if result.campaign else "",
                    "yes" if result.evidence_rich else "",
                    result.language,
                ]
            )
        return cells

    return columns, descriptions, values
