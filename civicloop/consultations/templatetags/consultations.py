from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from civicloop.consultations import questions as qt
from civicloop.lib.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    return render_markdown(text)


@register.simple_tag
def answer_display(question: Any, answers: dict[str, Any]) -> str:
    return qt.display(question, answers.get(question.key))
