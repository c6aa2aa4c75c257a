from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.forms import GDSForm
from civicloop.analysis.models import POSITION_CHOICES
from civicloop.analysis.services import MAX_THEMES


class AnalyseForm(GDSForm):
    stance_key = forms.ChoiceField(
        label=_("Where positions (support or oppose) come from"),
        help_text=_(
            "A closed question answered alongside this one is the most reliable; "
            "without one, positions are estimated from the tone of each answer."
        ),
        required=False,
    )
    themes = forms.IntegerField(
        label=_("Number of themes (optional)"),
        help_text=_("Leave blank and civicloop chooses for you."),
        required=False,
        min_value=1,
        max_value=MAX_THEMES,
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3"}),
    )

    def __init__(self, *args: Any, stance_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stance_key"].choices = [  # type: ignore[attr-defined]
            ("", _("The tone of each answer (sentiment)")),
            *stance_choices,
        ]


class RenameForm(GDSForm):
    label = forms.CharField(label=_("Theme name"), max_length=300)
    description = forms.CharField(label=_("One-line description"), max_length=500, required=False)


class ThemeChoiceForm(GDSForm):
    """Merge into, or move selected responses to, another theme."""

    theme = forms.ChoiceField(label=_("Theme"))

    def __init__(
        self, *args: Any, themes: list[tuple[str, str]], label: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", _("Choose a theme")), *themes]  # type: ignore[attr-defined]
        self.fields["theme"].label = label


class SplitForm(GDSForm):
    new_label = forms.CharField(label=_("Name of the new theme"), max_length=300)


class PositionForm(GDSForm):
    position = forms.ChoiceField(label=_("Position"), choices=POSITION_CHOICES)


def selected_ids(data: Any) -> list[int]:
    """The response checkboxes ticked on a page; anything not a number is ignored."""
    ids = []
    for value in data.getlist("responses"):
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids
