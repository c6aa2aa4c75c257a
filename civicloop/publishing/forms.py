from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.forms import DATE_ATTRS, GDSForm
from civicloop.channels.limits import NETWORKS
from civicloop.publishing import guidance

NETWORK_CHOICES = [("", _("Any network")), *((n, limits.name) for n, limits in NETWORKS.items())]


class CheckPostForm(GDSForm):
    text = forms.CharField(
        label=_("Post"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10_000
    )
    network = forms.ChoiceField(label=_("Network"), choices=NETWORK_CHOICES, required=False)
    image_alt = forms.CharField(
        label=_("Alt text of the image (if the post has one)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    has_image = forms.BooleanField(label=_("The post has an image"), required=False)
    on = forms.DateField(
        label=_("Publish date"),
        required=False,
        widget=forms.DateInput(attrs=DATE_ATTRS),
        help_text=_("Leave blank for today. Used for the pre-election period."),
    )


class GuidanceSettingsForm(GDSForm):
    enabled_rules = forms.MultipleChoiceField(
        label=_("Rules in use"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        choices=[(rule_id, title) for rule_id, (title, _source, _f) in guidance.RULES.items()],
    )
    blocked_words = forms.CharField(
        label=_("Words we do not use"),
        help_text=_("One word or phrase per line. A post using one needs review."),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    sensitive_topics = forms.CharField(
        label=_("Sensitive topics just now"),
        help_text=_(
            "One per line, for example a live incident. A post that mentions one needs review."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    max_reading_age = forms.IntegerField(
        label=_("Highest reading age"),
        min_value=6,
        max_value=20,
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3"}),
    )


class OwnRuleForm(GDSForm):
    words = forms.CharField(
        label=_("Words or phrases"), help_text=_("Separate with commas."), max_length=2000
    )
    level = forms.ChoiceField(
        label=_("When a post uses one"),
        widget=forms.RadioSelect,
        choices=[(guidance.ADVICE, _("Give advice")), (guidance.REVIEW, _("Needs review"))],
    )
    message = forms.CharField(label=_("Message authors see"), max_length=300)


class ElectionForm(GDSForm):
    name = forms.CharField(label=_("Election"), max_length=200)
    starts = forms.DateField(
        label=_("Pre-election period starts"), widget=forms.DateInput(attrs=DATE_ATTRS)
    )
    ends = forms.DateField(label=_("Polling day"), widget=forms.DateInput(attrs=DATE_ATTRS))


VARIANT_NETWORKS = ("x", "bluesky", "mastodon")


class LocalDateTimeField(forms.DateTimeField):
    """A time in the organisation's zone that is plain about clock changes: a time the
    clocks skip (spring) is refused in words; one that happens twice (autumn) is the
    first of the two, where Django would refuse both alike."""

    def to_python(self, value: str | dt.datetime | dt.date | None) -> dt.datetime | None:
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            if getattr(exc, "code", "") != "ambiguous_timezone":
                raise
        naive = dt.datetime.fromisoformat(str(value).strip())
        zone = timezone.get_current_timezone()
        first = naive.replace(tzinfo=zone, fold=0)
        if first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise forms.ValidationError(
                _(
                    "%(time)s does not happen here: the clocks go forward that night. Choose another time."
                )
                % {"time": naive.strftime("%H:%M on %-d %B %Y")},
                code="skipped_time",
            )
        return first


class PostForm(GDSForm):
    def __init__(self, *args: Any, consultations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consultation"].choices = [("", _("None"))] + [  # type: ignore[attr-defined]
            (c.code, c.title) for c in consultations
        ]

    text = forms.CharField(
        label=_("Post"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        help_text=_(
            "Written once for every network; shorten it for one network below if you need to."
        ),
    )
    networks = forms.MultipleChoiceField(
        label=_("Networks"),
        widget=forms.CheckboxSelectMultiple,
        choices=[c for c in NETWORK_CHOICES if c[0]],
    )
    variant_x = forms.CharField(
        label=_("Shorter version for X (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    variant_bluesky = forms.CharField(
        label=_("Shorter version for Bluesky (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    variant_mastodon = forms.CharField(
        label=_("Version for Mastodon (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
    link = forms.URLField(
        label=_("Link (optional)"),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "govuk-input"}),
    )
    image = forms.ImageField(
        label=_("Image (optional)"),
        required=False,
        help_text=_(
            "JPEG, PNG, GIF or WebP. Bluesky takes at most 1 MB; Instagram only JPEG, up to 8 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"class": "govuk-file-upload"}),
    )
    image_alt = forms.CharField(
        label=_("Alt text for the image"),
        help_text=_("Describe what the image shows, including any words in it."),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    audience = forms.CharField(
        label=_("Interest groups (optional)"),
        help_text=_("For example: tenants, cyclists, parents of young children."),
        required=False,
        max_length=300,
    )
    consultation = forms.ChoiceField(
        label=_("About a consultation (optional)"),
        help_text=_("Replies to the post can then be counted as responses to it."),
        required=False,
        choices=[],
    )
    publish_at = LocalDateTimeField(
        label=_("Publish at (optional)"),
        help_text=_(
            "Leave blank to publish as soon as it is ready. Your organisation's time zone."
        ),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "govuk-input govuk-input--width-20"}
        ),
    )


class ReviewForm(GDSForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            ("approved", _("Approve: it can be published")),
            ("sent_back", _("Send back to the author")),
        ],
    )
    comment = forms.CharField(
        label=_("Comments for the author"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
