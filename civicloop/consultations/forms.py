from __future__ import annotations

from typing import Any, cast

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.forms import DATE_ATTRS, GDSForm, GDSModelForm
from civicloop.consultations import questions as qt
from civicloop.consultations.models import Consultation, Question, Response
from civicloop.consultations.services import CONSULTATION_FIELDS


class AnswerForm(forms.Form):
    """The questions of one section, as GOV.UK form fields."""

    def __init__(self, *args: Any, questions: list[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields.update(qt.form_fields(question))
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.label_size = Size.MEDIUM
        self.helper.legend_size = Size.MEDIUM

    def answers(self) -> dict[str, Any]:
        """Answers keyed by question key; raises field errors on the form if invalid."""
        result = {}
        for question in self.questions:
            try:
                result[question.key] = qt.from_form(question, self.cleaned_data)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return result

    @staticmethod
    def initial_from(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for question in questions:
            initial.update(qt.to_initial(question, answers.get(question.key)))
        return initial


class SubmitForm(GDSForm):
    email = forms.EmailField(
        label=_("Email address (optional)"),
        required=False,
        help_text=_(
            "We will email you a copy of your reference number. We do not use it for anything else."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    # Honeypot: hidden from people (CSS), filled in by bots. Never rejects, only flags.
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )


class ErasureForm(GDSForm):
    reference = forms.CharField(
        label=_("Your reference number"), max_length=12, help_text=_("For example ABCD-2345.")
    )


class ConsultationForm(GDSModelForm):
    class Meta:
        model = Consultation
        fields = CONSULTATION_FIELDS
        widgets = {
            "opens_at": forms.DateTimeInput(
                attrs={"type": "datetime-local", "class": "govuk-input govuk-input--width-20"},
                format="%Y-%m-%dT%H:%M",
            ),
            "closes_at": forms.DateTimeInput(
                attrs={"type": "datetime-local", "class": "govuk-input govuk-input--width-20"},
                format="%Y-%m-%dT%H:%M",
            ),
            "access": forms.RadioSelect,
            "summary": forms.Textarea(attrs={"rows": 2}),
            "retention_days": forms.NumberInput(
                attrs={"class": "govuk-input govuk-input--width-5"}
            ),
        }
        help_texts = {
            "opens_at": _("In your organisation's time zone. Leave empty to open when published."),
            "closes_at": _("In your organisation's time zone."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["access"].widget = forms.RadioSelect(choices=Consultation.Access.choices)


class PageForm(GDSForm):
    title = forms.CharField(label=_("Section title"), max_length=200)
    intro = forms.CharField(
        label=_("Introduction (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    show_if_key = forms.ChoiceField(
        label=_("Show this section only if the answer to"), required=False
    )
    show_if_values = forms.CharField(
        label=_("is one of (option values, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, earlier: list[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["show_if_key"]).choices = [
            ("", _("Always show")),
            *[(q.key, f"{q.key}: {q.text[:60]}") for q in earlier],
        ]

    def clean_show_if_values(self) -> list[str]:
        return [v.strip() for v in self.cleaned_data["show_if_values"].splitlines() if v.strip()]


class QuestionForm(GDSForm):
    type = forms.ChoiceField(label=_("Type of question"), choices=qt.QuestionType.choices)
    text = forms.CharField(label=_("Question"), max_length=500)
    hint = forms.CharField(label=_("Hint (optional)"), max_length=500, required=False)
    key = forms.SlugField(
        label=_("Key"),
        max_length=60,
        help_text=_(
            "Stable name in exports and the API, like q1_repairs. Letters, numbers, underscores."
        ),
    )
    required = forms.BooleanField(
        label=_("An answer is required (never for demographic questions)"), required=False
    )
    options = forms.CharField(
        label=_("Options, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For single choice, multiple choice, ranking and area questions."),
    )
    max_length = forms.IntegerField(
        label=_("Longest answer in characters (free text)"),
        required=False,
        min_value=1,
        max_value=qt.FREE_TEXT_LIMIT,
        widget=forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-5"}),
    )

    def clean_options(self) -> list[str]:
        return [o.strip() for o in self.cleaned_data["options"].splitlines() if o.strip()]


class StaffEntryForm(GDSForm):
    channel = forms.ChoiceField(
        label=_("How did this response arrive?"),
        widget=forms.RadioSelect,
        choices=[(Response.Channel.PAPER, _("On paper")), (Response.Channel.PHONE, _("By phone"))],
    )
    respondent_name = forms.CharField(
        label=_("Respondent's name (optional)"), required=False, max_length=200
    )


class ModerationForm(GDSForm):
    action = forms.ChoiceField(
        label=_("Action"),
        widget=forms.RadioSelect,
        choices=[
            ("hide", _("Hide from analysis and publication")),
            ("show", _("Show again")),
            ("flag", _("Flag for a colleague")),
            ("clear_flags", _("Clear flags")),
        ],
    )
    reason = forms.CharField(label=_("Reason (kept in the audit log)"), max_length=300)


class RedactionForm(GDSForm):
    question_key = forms.CharField(widget=forms.HiddenInput)
    new_text = forms.CharField(
        label=_("Text with personal details removed"), widget=forms.Textarea(attrs={"rows": 5})
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ResponseFilterForm(GDSForm):
    text = forms.CharField(label=_("Answers contain"), required=False, max_length=100)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *Response.Channel.choices],
    )
    state = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All")),
            ("flagged", _("Flagged")),
            ("hidden", _("Hidden")),
            ("erasure", _("Erasure requested")),
        ],
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs=DATE_ATTRS)
    )
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=DATE_ATTRS))
    answer_key = forms.ChoiceField(label=_("Question"), required=False)
    answer_value = forms.ChoiceField(label=_("Answer"), required=False)

    def __init__(self, *args: Any, consultation: Consultation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        closed = [q for q in consultation.questions.all() if qt.options_for(q)]
        cast(forms.ChoiceField, self.fields["answer_key"]).choices = [
            ("", _("Any question")),
            *[(q.key, q.key) for q in closed],
        ]
        values = sorted(
            {(v, f"{q.key}: {label}") for q in closed for v, label in qt.options_for(q)},
            key=lambda x: x[1],
        )
        cast(forms.ChoiceField, self.fields["answer_value"]).choices = [
            ("", _("Any answer")),
            *values,
        ]


class UploadForm(GDSForm):
    file = forms.FileField(
        label=_("CSV or XLSX file"), help_text=_("The first row names the columns. At most 10 MB.")
    )


class DocumentForm(GDSForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    upload = forms.FileField(label=_("File"), help_text=_("PDF or an office file, at most 20 MB."))


class InviteRespondentsForm(GDSForm):
    labels = forms.CharField(
        label=_("Who the links are for, one per line"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "A tenancy reference to print on a letter, or an email address to send the link by email. One one-time link per line."
        ),
    )

    def clean_labels(self) -> list[str]:
        labels = [line.strip() for line in self.cleaned_data["labels"].splitlines() if line.strip()]
        if not labels or len(labels) > 1000:
            raise ValidationError(_("Give between 1 and 1,000 lines."))
        return labels
