from __future__ import annotations

from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "civicloop.analysis"
    label = "analysis"
    verbose_name = "Analysis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civicloop.analysis.exports import theme_columns
        from civicloop.consultations.exports import COLUMN_PROVIDERS

        if theme_columns not in COLUMN_PROVIDERS:
            COLUMN_PROVIDERS.append(theme_columns)
