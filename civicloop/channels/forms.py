"""Connect forms, built from each transport's list of fields (limits and fields are data)."""

from __future__ import annotations

from typing import Any

from django import forms

from civicloop.accounts.forms import GDSForm
from civicloop.channels.base import Field


def _field(spec: Field) -> forms.Field:
    common: dict[str, Any] = {
        "label": spec.label,
        "help_text": spec.help,
        "required": spec.required,
        "initial": spec.initial or None,
    }
    if spec.kind == "url":
        return forms.URLField(
            max_length=300,
            assume_scheme="https",
            widget=forms.URLInput(attrs={"class": "govuk-input govuk-input--width-20"}),
            **common,
        )
    if spec.kind == "password":
        return forms.CharField(max_length=2000, widget=forms.PasswordInput, **common)
    if spec.kind == "textarea":
        return forms.CharField(
            max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}), **common
        )
    if spec.kind == "int":
        return forms.IntegerField(
            min_value=1,
            max_value=65535,
            widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-5"}),
            **common,
        )
    if spec.kind == "email":
        return forms.EmailField(max_length=254, **common)
    if spec.kind == "choice":
        return forms.ChoiceField(choices=spec.choices, widget=forms.RadioSelect, **common)
    return forms.CharField(max_length=300, **common)


def connect_form(transport: Any, data: Any = None) -> GDSForm:
    """A form with one field per thing the network needs to connect."""
    form_class = type(
        f"{transport.__name__}ConnectForm",
        (GDSForm,),
        {spec.name: _field(spec) for spec in transport.fields},
    )
    form: GDSForm = form_class(data)
    return form
