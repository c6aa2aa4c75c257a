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


def load_demo_posts() -> bool:
    """Two posts at Ashworth: one ready without sign-off, one waiting for review."""
    from civicloop.accounts.models import Membership
    from civicloop.publishing import services
    from civicloop.publishing.models import Post

    ashworth = Organisation.objects.filter(slug="ashworth").first()
    if ashworth is None or Post.objects.filter(organisation=ashworth).exists():
        return False
    officer = Membership.objects.filter(organisation=ashworth, role="officer").first()
    if officer is None:
        return False
    ready = services.post_save(
        actor_membership=officer,
        text="Bins will be collected on Saturday this week because of the bank holiday. #BankHoliday",
        networks=["bluesky", "mastodon", "facebook"],
        audience="residents",
    )
    services.post_submit(actor_membership=officer, post=ready)
    risky = services.post_save(
        actor_membership=officer,
        text=(
            "The council is pleased to announce that the Mill Lane recycling centre reopens on "
            "Monday. Questions? Ring Sam on 07700 900123. #recyclingcentrereopening #Recycling #Ashworth"
        ),
        networks=["x", "bluesky"],
        link="https://ashworth.example/recycling",
        audience="residents, drivers",
    )
    services.post_submit(actor_membership=officer, post=risky)
    return True
