from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicloop.publishing.demo import load_demo_guidance


class Command(BaseCommand):
    help = "Load the demo organisations' guidance settings (needs load_demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = load_demo_guidance()
        self.stdout.write(
            "Demo guidance settings loaded." if done else "Demo guidance settings already present."
        )
