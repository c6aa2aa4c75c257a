from __future__ import annotations

from typing import Any, cast

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.models import Organisation
from civicloop.accounts.roles import ROLE_DESCRIPTIONS, Role


def add_service_errors(exc: ValidationError, form: object) -> None:
    """Show a service's ValidationError on the form it came from."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)  # type: ignore[attr-defined]
    else:
        form.add_error(None, exc.messages)  # type: ignore[attr-defined]


class GDSForm(forms.Form):
    """Fields rendered in GOV.UK patterns; the page supplies <form>, CSRF and buttons."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.label_size = Size.SMALL


class GDSModelForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.label_size = Size.SMALL


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        "invalid_login": _("Enter a correct email address and password."),
        "inactive": _("This account has been switched off."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.label_size = Size.SMALL


def role_choices(*, include_owner: bool) -> list[tuple[str, str]]:
    return [
        (value, f"{label} — {ROLE_DESCRIPTIONS[value]}")
        for value, label in Role.choices
        if include_owner or value != Role.OWNER
    ]


class InviteForm(GDSForm):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, include_owner: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = role_choices(
            include_owner=include_owner
        )


class RoleForm(GDSForm):
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, include_owner: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = role_choices(
            include_owner=include_owner
        )


TIME_ATTRS = {"class": "govuk-input govuk-input--width-5", "type": "time"}
DATE_ATTRS = {"class": "govuk-input govuk-input--width-10", "type": "date"}


class OrganisationSettingsForm(GDSModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "kind",
            "timezone",
            "office_opens",
            "office_closes",
            "office_days",
            "brand_colour",
            "logo",
        ]
        widgets = {
            "office_opens": forms.TimeInput(format="%H:%M", attrs=TIME_ATTRS),
            "office_closes": forms.TimeInput(format="%H:%M", attrs=TIME_ATTRS),
            "office_days": forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}),
            "brand_colour": forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}),
        }
        help_texts = {
            "office_days": _("Digits for the days the office is open: 0 is Monday, 6 is Sunday."),
            "brand_colour": _("Shown behind white text on your public pages, like #24455e."),
            "logo": _("PNG or JPEG, at most 1 MB."),
            "timezone": _("For example Europe/London."),
        }

    LOGO_MAX_BYTES = 1_048_576

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A radio list needs no "select an option" entry.
        self.fields["kind"].widget = forms.RadioSelect(choices=Organisation.Kind.choices)

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "size") and logo.size > self.LOGO_MAX_BYTES:
            raise forms.ValidationError(_("The logo must be 1 MB or smaller."))
        image = getattr(logo, "image", None)
        if image is not None and image.format not in {"PNG", "JPEG"}:
            raise forms.ValidationError(_("The logo must be a PNG or JPEG image."))
        return logo


class AuditFilterForm(GDSForm):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Who (name or email contains)"), required=False, max_length=100)
    since = forms.DateField(
        label=_("From (YYYY-MM-DD)"), required=False, widget=forms.DateInput(attrs=DATE_ATTRS)
    )
    until = forms.DateField(
        label=_("To (YYYY-MM-DD)"), required=False, widget=forms.DateInput(attrs=DATE_ATTRS)
    )

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", _("All actions")),
            *[(a, a) for a in actions],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date must be on or after the start date."))
        return data


class RegisterForm(GDSForm):
    name = forms.CharField(label=_("Full name"), max_length=150)
    password1 = forms.CharField(
        label=_("Create a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. Avoid common passwords."),
    )
    password2 = forms.CharField(
        label=_("Type the password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The passwords do not match."))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data
