from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicloop.analysis.demo import load_demo_analysis


class Command(BaseCommand):
    help = "Analyse the demo consultations' free-text answers (needs load_demo_consultations)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="run here instead of queueing jobs for the worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = load_demo_analysis(now=options["now"])
        if not done:
            self.stdout.write("Demo analyses already present.")
        elif options["now"]:
            self.stdout.write(f"{done} questions analysed.")
        else:
            self.stdout.write(f"{done} analyses queued; the worker fills them in.")
