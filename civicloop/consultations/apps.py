from __future__ import annotations

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "civicloop.consultations"
    label = "consultations"
    verbose_name = "Consultations"
