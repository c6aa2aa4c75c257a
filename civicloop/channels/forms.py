from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.forms import GDSForm


class BlueskyConnectForm(GDSForm):
    service = forms.URLField(
        label=_("Server"),
        initial="https://bsky.social",
        widget=forms.URLInput(attrs={"class": "govuk-input govuk-input--width-20"}),
        help_text=_("Leave as bsky.social unless your account is on another server."),
        assume_scheme="https",
    )
    identifier = forms.CharField(
        label=_("Handle"), max_length=200, help_text=_("For example ashworth.bsky.social")
    )
    password = forms.CharField(
        label=_("App password"),
        widget=forms.PasswordInput,
        max_length=200,
        help_text=_(
            "Make one in Bluesky under Settings → Privacy and security → App passwords. Never use the account password."
        ),
    )
