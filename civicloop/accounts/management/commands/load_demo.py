from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicloop.accounts.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo organisations and people (does nothing if they exist)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present.")
