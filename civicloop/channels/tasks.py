from __future__ import annotations

from django.tasks import task


@task()
def deliver(delivery_id: int) -> None:
    from civicloop.channels.services import delivery_run

    delivery_run(delivery_id)


@task()
def maintain() -> None:
    """Every minute on some worker: lapse posts whose publish time passed before
    approval, and mark deliveries stuck in "publishing" as unconfirmed."""
    from civicloop.accounts.models import Organisation
    from civicloop.channels.services import deliveries_mark_stale
    from civicloop.publishing.models import Post
    from civicloop.publishing.services import posts_lapse_overdue

    for organisation in Organisation.objects.filter(posts__status=Post.Status.IN_REVIEW).distinct():
        posts_lapse_overdue(organisation)
    deliveries_mark_stale()
