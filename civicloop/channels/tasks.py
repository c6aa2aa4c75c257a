from __future__ import annotations

from django.tasks import task


@task()
def deliver(delivery_id: int) -> None:
    from civicloop.channels.services import delivery_run

    delivery_run(delivery_id)


@task()
def maintain() -> None:
    """Every minute on some worker: lapse posts whose publish time passed before
    approval, mark deliveries stuck in "publishing" as unconfirmed, renew tokens about
    to lapse, and queue a reading of recent posts' engagement (network calls, so not
    here: the minute's housekeeping must not wait on slow networks)."""
    from civicloop.accounts.models import Organisation
    from civicloop.channels.services import (
        channels_refresh_due,
        deliveries_mark_stale,
        deliveries_sweep,
    )
    from civicloop.publishing.models import Post
    from civicloop.publishing.services import posts_lapse_overdue

    for organisation in Organisation.objects.filter(posts__status=Post.Status.IN_REVIEW).distinct():
        posts_lapse_overdue(organisation)
    deliveries_mark_stale()
    deliveries_sweep()
    channels_refresh_due()
    refresh_engagement.enqueue()


@task()
def refresh_engagement() -> None:
    from civicloop.channels.services import engagement_refresh

    engagement_refresh()
