"""Connecting channels and delivering posts exactly once."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Membership, User
from civicloop.channels import base, secrets
from civicloop.channels.bluesky.transport import BlueskyTransport
from civicloop.channels.models import Channel, Delivery

logger = logging.getLogger(__name__)
TRANSPORTS: dict[str, Any] = {"bluesky": BlueskyTransport}
# A delivery left "publishing" this long (its worker died mid-call) is unconfirmed.
STALE_PUBLISHING = dt.timedelta(minutes=10)
# A scheduled post not yet sent this long after its time (workers were down) is not sent
# late: its approval lapses and a person decides again.
LATE_GRACE = dt.timedelta(hours=1)


def transport_for(network: str) -> Any:
    return TRANSPORTS[network]()


@transaction.atomic
def channel_connect(
    *, actor_membership: Membership, network: str, credentials: dict[str, Any]
) -> Channel:
    if network not in TRANSPORTS:
        raise ValidationError(
            _("civicloop cannot connect to %(network)s yet.") % {"network": network}
        )
    try:
        stored = transport_for(network).connect(credentials)
    except base.DeliveryError as exc:
        raise ValidationError(str(exc)) from exc
    channel, _created = Channel.objects.update_or_create(
        organisation=actor_membership.organisation,
        network=network,
        handle=stored.get("handle", ""),
        defaults={
            "credentials": secrets.seal(stored),
            "status": Channel.Status.CONNECTED,
            "problem": "",
            "connected_at": timezone.now(),
        },
    )
    audit_record(
        actor=actor_membership.user,
        organisation=actor_membership.organisation,
        action="channel.connected",
        target=channel,
        after={"network": network, "handle": channel.handle},
    )
    return channel


def deliveries_create(post: Any) -> list[Delivery]:
    """One delivery per network of a ready post that has a connected channel; each is
    queued for its publish time once the transaction commits."""
    from civicloop.channels.tasks import deliver

    made = []
    for channel in Channel.objects.filter(
        organisation=post.organisation, network__in=post.networks, status=Channel.Status.CONNECTED
    ):
        delivery, created = Delivery.objects.get_or_create(
            post=post, channel=channel, defaults={"not_before": post.publish_at}
        )
        if created:
            made.append(delivery)
        elif delivery.status == Delivery.Status.FAILED and delivery.attempts == 0:
            # Lapsed before it was ever tried; the post was resubmitted with a new time.
            delivery.status, delivery.error, delivery.not_before = (
                Delivery.Status.PENDING,
                "",
                post.publish_at,
            )
            delivery.save(update_fields=["status", "error", "not_before"])
            made.append(delivery)
    for delivery in made:
        when = delivery.not_before

        def queue(pk: int = delivery.pk, when: dt.datetime | None = when) -> None:
            task = deliver.using(run_after=when) if when and when > timezone.now() else deliver
            task.enqueue(pk)

        transaction.on_commit(queue)
    return made


def _claim(delivery_id: int) -> Delivery | None:
    """PENDING → PUBLISHING in one UPDATE: a task delivered twice publishes once."""
    taken = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.PUBLISHING, claimed_at=timezone.now()
    )
    return Delivery.objects.select_related("channel", "post").get(pk=delivery_id) if taken else None


def _finish(delivery: Delivery, **fields: Any) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    audit_record(
        actor=None,
        organisation=delivery.channel.organisation,
        action=f"delivery.{fields.get('status', 'updated')}",
        target=delivery,
        after={k: str(v) for k, v in fields.items()},
    )


def _image(post: Any) -> base.Image | None:
    if not post.image:
        return None
    import mimetypes

    with post.image.open("rb") as f:
        data = f.read()
    content_type = mimetypes.guess_type(post.image.name)[0] or "application/octet-stream"
    return base.Image(data=data, content_type=content_type, alt=post.image_alt)


def _lapse_late(delivery: Delivery) -> None:
    from civicloop.publishing.models import Post

    message = _(
        "Not sent: more than an hour past its publish time. Choose a new time and submit again."
    )
    _finish(delivery, status=Delivery.Status.FAILED, error=message)
    Post.objects.filter(pk=delivery.post_id, status=Post.Status.READY).update(
        status=Post.Status.LAPSED
    )


def delivery_run(delivery_id: int) -> Delivery | None:
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    channel = delivery.channel
    post = delivery.post
    if (
        delivery.attempts == 0
        and post.publish_at is not None
        and timezone.now() > post.publish_at + LATE_GRACE
    ):
        _lapse_late(delivery)
        return delivery
    text = post.text_for(channel.network)
    transport = transport_for(channel.network)
    attempts = delivery.attempts + 1
    try:
        credentials = secrets.unseal(channel.credentials)
        found = transport.find(credentials, key=delivery.key) if delivery.attempts else None
        published = found or transport.publish(
            credentials, text=text, key=delivery.key, image=_image(delivery.post)
        )
    except base.AuthExpired as exc:
        Channel.objects.filter(pk=channel.pk).update(
            status=Channel.Status.RECONNECT, problem=str(exc)
        )
        _finish(delivery, status=Delivery.Status.HELD, error=str(exc), attempts=attempts)
    except base.Unconfirmed as exc:
        _finish(delivery, status=Delivery.Status.UNCONFIRMED, error=str(exc), attempts=attempts)
    except base.RateLimited as exc:
        _finish(
            delivery,
            status=Delivery.Status.PENDING,
            error=str(exc),
            attempts=attempts,
            not_before=timezone.now() + dt.timedelta(seconds=exc.retry_after),
        )
        from civicloop.channels.tasks import deliver

        deliver.using(run_after=delivery.not_before).enqueue(delivery.pk)
    except base.Temporary as exc:
        if attempts >= 5:
            _finish(delivery, status=Delivery.Status.FAILED, error=str(exc), attempts=attempts)
        else:
            wait = timezone.now() + dt.timedelta(seconds=30 * 2**attempts)
            _finish(
                delivery,
                status=Delivery.Status.PENDING,
                error=str(exc),
                attempts=attempts,
                not_before=wait,
            )
            from civicloop.channels.tasks import deliver

            deliver.using(run_after=wait).enqueue(delivery.pk)
    except base.Rejected as exc:
        _finish(delivery, status=Delivery.Status.FAILED, error=str(exc), attempts=attempts)
    else:
        _finish(
            delivery,
            status=Delivery.Status.PUBLISHED,
            remote_id=published.remote_id,
            url=published.url,
            error="",
            attempts=attempts,
            published_at=timezone.now(),
        )
    return delivery


@transaction.atomic
def delivery_retry(*, actor: User, delivery: Delivery) -> Delivery:
    """A person's retry of a failed, held or unconfirmed delivery. The task looks the
    post up on the network first (attempts > 0), so it never posts twice."""
    if delivery.status not in (
        Delivery.Status.FAILED,
        Delivery.Status.UNCONFIRMED,
        Delivery.Status.HELD,
    ):
        raise ValidationError(_("Only failed, held or unconfirmed deliveries can be retried."))
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, not_before=None)
    audit_record(
        actor=actor,
        organisation=delivery.channel.organisation,
        action="delivery.retried",
        target=delivery,
        before={"status": delivery.status},
    )
    from civicloop.channels.tasks import deliver

    transaction.on_commit(lambda: deliver.enqueue(delivery.pk))
    delivery.status = Delivery.Status.PENDING
    return delivery


def deliveries_mark_stale() -> int:
    """Deliveries stuck in PUBLISHING (a worker died mid-call) become unconfirmed. Timed
    from the claim, not the creation: a post scheduled days ahead is claimed at its time."""
    cutoff = timezone.now() - STALE_PUBLISHING
    return Delivery.objects.filter(status=Delivery.Status.PUBLISHING, claimed_at__lt=cutoff).update(
        status=Delivery.Status.UNCONFIRMED, error="The worker stopped while publishing."
    )


@transaction.atomic
def channel_disconnect(*, actor_membership: Membership, channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(
        status=Channel.Status.DISCONNECTED, credentials="", problem=""
    )
    audit_record(
        actor=actor_membership.user,
        organisation=actor_membership.organisation,
        action="channel.disconnected",
        target=channel,
        before={"network": channel.network, "handle": channel.handle},
    )
