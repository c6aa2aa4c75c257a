from __future__ import annotations

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "civicloop.publishing"
    label = "publishing"
    verbose_name = "Publishing"
    default_auto_field = "django.db.models.BigAutoField"
