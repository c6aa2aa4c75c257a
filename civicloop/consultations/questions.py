"""Question types: how each is asked, checked, shown and exported.

One place knows the shape of every answer, so the web form, staff entry, the
import and the API all accept exactly the same things."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFER_NOT = ("prefer_not_to_say", _("Prefer not to say"))


class QuestionType(models.TextChoices):
    FREE_TEXT = "free_text", _("Free text")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    AGREE_SCALE = "agree_scale", _("Agree–disagree scale (5 points)")
    YES_NO_WHY = "yes_no_why", _("Yes or no, and why")
    RANKING = "ranking", _("Ranking")
    POSTCODE = "postcode", _("UK postcode")
    AGE = "age", _("Age band")
    SEX = "sex", _("Sex")
    GENDER = "gender", _("Gender identity")
    ETHNICITY = "ethnicity", _("Ethnic group")
    DISABILITY = "disability", _("Disability")
    TENURE = "tenure", _("Housing tenure")
    AREA = "area", _("Area")
    CONSENT = "consent", _("Consent to publish")


AGREE_OPTIONS = [
    ("strongly_agree", _("Strongly agree")),
    ("agree", _("Agree")),
    ("neither", _("Neither agree nor disagree")),
    ("disagree", _("Disagree")),
    ("strongly_disagree", _("Strongly disagree")),
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]
CONSENT_OPTIONS = [
    ("anonymous", _("Yes, publish my response anonymously")),
    ("with_name", _("Yes, publish my response with my name")),
    ("not_at_all", _("No, do not publish my response")),
]
# ONS-style categories (2021 Census harmonised standards, shortened labels).
DEMOGRAPHIC_OPTIONS: dict[str, list[tuple[str, Any]]] = {
    QuestionType.AGE: [
        ("under_16", _("Under 16")),
        ("16_24", "16 to 24"),
        ("25_34", "25 to 34"),
        ("35_44", "35 to 44"),
        ("45_54", "45 to 54"),
        ("55_64", "55 to 64"),
        ("65_74", "65 to 74"),
        ("75_plus", _("75 or over")),
    ],
    QuestionType.SEX: [("female", _("Female")), ("male", _("Male"))],
    QuestionType.GENDER: [
        ("same", _("Yes, my gender identity is the same as my sex registered at birth")),
        ("different", _("No, my gender identity is different")),
    ],
    QuestionType.ETHNICITY: [
        ("asian", _("Asian, Asian British, Asian Welsh")),
        ("black", _("Black, Black British, Black Welsh, Caribbean or African")),
        ("mixed", _("Mixed or multiple ethnic groups")),
        ("white", _("White")),
        ("other", _("Other ethnic group")),
    ],
    QuestionType.DISABILITY: [
        ("yes_a_lot", _("Yes, my day-to-day activities are limited a lot")),
        ("yes_a_little", _("Yes, my day-to-day activities are limited a little")),
        ("no", _("No")),
    ],
    QuestionType.TENURE: [
        ("owner", _("Own outright or with a mortgage")),
        ("shared", _("Shared ownership")),
        ("social_rent", _("Rent from a council or housing association")),
        ("private_rent", _("Rent from a private landlord")),
        ("rent_free", _("Live rent-free")),
        ("other", _("Other")),
    ],
}
DEMOGRAPHIC_TYPES = {*DEMOGRAPHIC_OPTIONS, QuestionType.AREA}
CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING}
FREE_TEXT_LIMIT = 10_000
POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")


def normalise_postcode(raw: str) -> str:
    compact = re.sub(r"\s+", "", raw or "").upper()
    if not POSTCODE.match(compact):
        raise ValidationError(_("Enter a real UK postcode, like SW1A 1AA."))
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(postcode: str) -> str:
    """The outward code ("SW1A") used for area breakdowns."""
    return postcode.split(" ")[0] if postcode else ""


def options_for(question: Any) -> list[tuple[str, Any]]:
    kind = question.type
    if kind in CHOICE_TYPES:
        return [(_slug(o), o) for o in question.options]
    if kind == QuestionType.AREA:
        return [*[(_slug(o), o) for o in question.options], PREFER_NOT]
    if kind == QuestionType.AGREE_SCALE:
        return AGREE_OPTIONS
    if kind == QuestionType.YES_NO_WHY:
        return YES_NO
    if kind == QuestionType.CONSENT:
        return CONSENT_OPTIONS
    if kind in DEMOGRAPHIC_OPTIONS:
        return [*DEMOGRAPHIC_OPTIONS[kind], PREFER_NOT]
    return []


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "option"


def is_required(question: Any) -> bool:
    # Demographic questions are always optional.
    return bool(question.required) and question.type not in DEMOGRAPHIC_TYPES


def max_length(question: Any) -> int:
    return min(question.max_length or FREE_TEXT_LIMIT, FREE_TEXT_LIMIT)


def form_fields(question: Any) -> dict[str, forms.Field]:
    """Django form fields asking ``question``; names start with its key."""
    key, label, hint = question.key, question.text, question.hint
    required = is_required(question)
    kind = question.type
    # GOV.UK style: say what to do, not that a field "is required".
    missing = (
        _("Enter an answer")
        if kind in (QuestionType.FREE_TEXT, QuestionType.POSTCODE)
        else _("Select an answer")
    )
    common: dict[str, Any] = {
        "label": label,
        "help_text": hint,
        "required": required,
        "error_messages": {"required": f"{missing}: {label}"},
    }
    if kind == QuestionType.FREE_TEXT:
        return {
            key: forms.CharField(widget=forms.Textarea, max_length=max_length(question), **common)
        }
    if kind == QuestionType.POSTCODE:
        return {
            key: forms.CharField(
                max_length=10,
                widget=forms.TextInput(
                    attrs={
                        "autocomplete": "postal-code",
                        "class": "govuk-input govuk-input--width-10",
                    }
                ),
                **common,
            )
        }
    if kind == QuestionType.MULTIPLE_CHOICE:
        return {
            key: forms.MultipleChoiceField(
                choices=options_for(question), widget=forms.CheckboxSelectMultiple, **common
            )
        }
    if kind == QuestionType.RANKING:
        choices = [("", _("Choose")), *options_for(question)]
        return {
            f"{key}__{n}": forms.ChoiceField(
                choices=choices,
                label=_("%(question)s — choice %(n)s") % {"question": label, "n": n}
                if n > 1
                else label,
                help_text=hint if n == 1 else "",
                required=required,
            )
            for n in range(1, len(question.options) + 1)
        }
    if kind == QuestionType.YES_NO_WHY:
        return {
            key: forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common),
            f"{key}__why": forms.CharField(
                label=_("Why?"),
                widget=forms.Textarea(attrs={"rows": 4}),
                required=False,
                max_length=max_length(question),
            ),
        }
    return {
        key: forms.ChoiceField(choices=options_for(question), widget=forms.RadioSelect, **common)
    }


def from_form(question: Any, data: dict[str, Any]) -> Any:
    """The stored answer from a form's cleaned_data (None when unanswered)."""
    key, kind = question.key, question.type
    if kind == QuestionType.RANKING:
        ranked = [data.get(f"{key}__{n}") for n in range(1, len(question.options) + 1)]
        ranked = [r for r in ranked if r]
        if len(set(ranked)) != len(ranked):
            raise ValidationError({f"{key}__1": _("Use each option once in your ranking.")})
        return ranked or None
    if kind == QuestionType.YES_NO_WHY:
        answer = data.get(key)
        return {"answer": answer, "why": data.get(f"{key}__why", "")} if answer else None
    value = data.get(key)
    if kind == QuestionType.POSTCODE and value:
        try:
            return normalise_postcode(value)
        except ValidationError as exc:
            raise ValidationError({key: exc.messages}) from None
    return value or None


def to_initial(question: Any, value: Any) -> dict[str, Any]:
    """Form initial data for a stored answer (the inverse of from_form)."""
    key, kind = question.key, question.type
    if value is None:
        return {}
    if kind == QuestionType.RANKING:
        return {f"{key}__{n}": v for n, v in enumerate(value, start=1)}
    if kind == QuestionType.YES_NO_WHY:
        return {key: value.get("answer"), f"{key}__why": value.get("why", "")}
    return {key: value}


def validate(question: Any, value: Any) -> Any:
    """Check an answer arriving as data (API, import) and return its stored form.

    Choice answers may be given as the option's value or its label."""
    kind = question.type
    if value in (None, "", []):
        if is_required(question):
            raise ValidationError(_("An answer is required."))
        return None
    options = options_for(question)
    by_value = {v: v for v, _ in options}
    by_label = {str(label).strip().lower(): v for v, label in options}

    def one(raw: Any) -> str:
        text = str(raw).strip()
        if text in by_value:
            return text
        if text.lower() in by_label:
            return by_label[text.lower()]
        raise ValidationError(_("%(value)s is not one of the options.") % {"value": text[:80]})

    if kind == QuestionType.FREE_TEXT:
        if not isinstance(value, str):
            raise ValidationError(_("The answer must be text."))
        if len(value) > max_length(question):
            raise ValidationError(
                _("The answer is longer than %(n)s characters.") % {"n": max_length(question)}
            )
        return value
    if kind == QuestionType.POSTCODE:
        return normalise_postcode(str(value))
    if kind in (QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING):
        items = (
            value if isinstance(value, list) else [v for v in str(value).split(";") if v.strip()]
        )
        result = [one(v) for v in items]
        if len(set(result)) != len(result):
            raise ValidationError(_("An option appears twice."))
        return result
    if kind == QuestionType.YES_NO_WHY:
        if isinstance(value, dict):
            answer, why = value.get("answer"), value.get("why", "")
        else:
            answer, why = value, ""
        why = str(why or "")
        if len(why) > max_length(question):
            raise ValidationError(_("The reason is too long."))
        return {"answer": one(answer), "why": why}
    return one(value)


def display(question: Any, value: Any) -> str:
    """The answer as a person reads it."""
    if value in (None, "", []):
        return ""
    labels = {v: str(label) for v, label in options_for(question)}
    kind = question.type
    if kind in (QuestionType.MULTIPLE_CHOICE,):
        return ", ".join(labels.get(v, v) for v in value)
    if kind == QuestionType.RANKING:
        return "; ".join(f"{n}. {labels.get(v, v)}" for n, v in enumerate(value, start=1))
    if kind == QuestionType.YES_NO_WHY:
        answer = labels.get(value.get("answer"), value.get("answer", ""))
        return f"{answer}: {value['why']}" if value.get("why") else answer
    if kind in (QuestionType.FREE_TEXT, QuestionType.POSTCODE):
        return str(value)
    return labels.get(value, str(value))


def export_columns(question: Any) -> list[str]:
    if question.type == QuestionType.YES_NO_WHY:
        return [question.key, f"{question.key}__why"]
    return [question.key]


def export_values(question: Any, value: Any) -> list[str]:
    """Cells for this answer, in the order of export_columns (values, not labels)."""
    if question.type == QuestionType.YES_NO_WHY:
        return [value.get("answer", ""), value.get("why", "")] if value else ["", ""]
    if value is None:
        return [""]
    if isinstance(value, list):
        return [";".join(value)]
    return [str(value)]


def free_text_parts(question: Any, value: Any) -> list[str]:
    """The free text inside an answer (for redaction and analysis)."""
    if question.type == QuestionType.FREE_TEXT and value:
        return [value]
    if question.type == QuestionType.YES_NO_WHY and value and value.get("why"):
        return [value["why"]]
    return []
