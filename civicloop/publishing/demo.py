"""Demo guidance settings: Ashworth has local elections coming and a live incident."""

from __future__ import annotations

import datetime as dt

from civicloop.accounts.models import Organisation
from civicloop.publishing.models import ElectionPeriod, GuidancePolicy


def load_demo_guidance() -> bool:
    ashworth = Organisation.objects.filter(slug="ashworth").first()
    if ashworth is None or GuidancePolicy.objects.filter(organisation=ashworth).exists():
        return False
    GuidancePolicy.objects.create(
        organisation=ashworth,
        blocked_words="citizens\nservice users",
        sensitive_topics="Mill Lane fire",
        own_rules=[
            {
                "id": "say-residents",
                "words": ["citizens"],
                "level": "advice",
                "message": "Say 'residents' or 'people in Ashworth', not 'citizens'.",
            }
        ],
    )
    ElectionPeriod.objects.create(
        organisation=ashworth,
        name="Ashworth Borough Council elections 2027",
        starts=dt.date(2027, 3, 22),
        ends=dt.date(2027, 5, 6),
    )
    return True
