from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicloop.publishing.demo import load_demo_guidance, load_demo_posts


class Command(BaseCommand):
    help = "Load the demo organisations' guidance settings and posts (needs load_demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = load_demo_guidance()
        self.stdout.write(
            "Demo guidance settings loaded." if done else "Demo guidance settings already present."
        )
        if load_demo_posts():
            self.stdout.write("Demo posts loaded.")
