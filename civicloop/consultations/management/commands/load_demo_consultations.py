from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicloop.consultations.demo import load_demo_consultations


class Command(BaseCommand):
    help = "Load the demo consultations and their responses (needs load_demo first)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_demo_consultations()
        self.stdout.write(
            "Demo consultations loaded." if created else "Demo consultations already present."
        )
