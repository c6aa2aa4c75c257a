from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicloop.consultations.services import retention_apply


class Command(BaseCommand):
    help = "Erase personal data of consultations whose retention period has ended."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Retention applied to {retention_apply()} consultations.")
