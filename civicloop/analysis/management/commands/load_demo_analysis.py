from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicloop.analysis.demo import load_demo_analysis


class Command(BaseCommand):
    help = "Analyse the demo consultations' free-text answers (needs load_demo_consultations)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = load_demo_analysis(progress=options["verbosity"] > 0)
        self.stdout.write(
            f"{done} questions analysed." if done else "Demo analyses already present."
        )
