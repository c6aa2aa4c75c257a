from __future__ import annotations

from django.tasks import task


@task()
def deliver(delivery_id: int) -> None:
    from civicloop.channels.services import delivery_run

    delivery_run(delivery_id)
