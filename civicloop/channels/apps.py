from __future__ import annotations

from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "civicloop.channels"
    label = "channels"
    verbose_name = "Channels"
    default_auto_field = "django.db.models.BigAutoField"
