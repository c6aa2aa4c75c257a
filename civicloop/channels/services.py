"""Connecting channels and delivering posts exactly once."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from functools import partial
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Membership, User
from civicloop.accounts.roles import Role
from civicloop.channels import base, safety, secrets
from civicloop.channels.models import Channel, Delivery
from civicloop.channels.registry import TRANSPORTS, transport_for

logger = logging.getLogger(__name__)
# Tokens are renewed this long before they lapse (X's last two hours; LinkedIn's 60 days).
REFRESH_AHEAD = dt.timedelta(minutes=30)
# A token that cannot be renewed: the organisation is told this long before it lapses.
WARN_AHEAD = dt.timedelta(days=7)
# Engagement counts are read again this often, for this long after publishing.
ENGAGEMENT_EVERY = dt.timedelta(minutes=30)
ENGAGEMENT_FOR = dt.timedelta(days=14)
# A delivery left "publishing" this long (its worker died mid-call) is unconfirmed.
STALE_PUBLISHING = dt.timedelta(minutes=10)
# A scheduled post not yet sent this long after its time (workers were down) is not sent
# late: its approval lapses and a person decides again.
LATE_GRACE = dt.timedelta(hours=1)
# A pending delivery this long past its time has lost its task: the sweep queues it again.
SWEEP_AFTER = dt.timedelta(minutes=2)


def _expiry(stored: dict[str, Any]) -> dt.datetime | None:
    when = stored.get("expires_at")
    return dt.datetime.fromtimestamp(float(when), dt.UTC) if when else None


@transaction.atomic
def channel_connect(
    *, actor_membership: Membership, network: str, credentials: dict[str, Any]
) -> Channel:
    if network not in TRANSPORTS:
        raise ValidationError(
            _("civicloop cannot connect to %(network)s yet.") % {"network": network}
        )
    try:
        for name in safety.SERVER_FIELDS:
            if credentials.get(name):
                safety.check_server(str(credentials[name]))
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
            "expires_at": _expiry(stored),
        },
    )
    audit_record(
        actor=actor_membership.user,
        organisation=actor_membership.organisation,
        action="channel.connected",
        target=channel,
        after={"network": network, "handle": channel.handle},
    )
    _release_held(channel)
    return channel


def _release_held(channel: Channel) -> None:
    """Posts held because the account needed reconnecting go out once it is, if they
    were held less than an hour ago (looked up first, so never twice); older ones stay
    held for a person to retry or drop."""
    recent = Delivery.objects.filter(
        channel=channel,
        status=Delivery.Status.HELD,
        claimed_at__gte=timezone.now() - LATE_GRACE,
    )
    for delivery in list(recent):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, not_before=None
        )
        audit_record(
            actor=None,
            organisation=channel.organisation,
            action="delivery.released",
            target=delivery,
            before={"status": Delivery.Status.HELD},
            after={"status": Delivery.Status.PENDING, "why": "account reconnected"},
        )
        transaction.on_commit(partial(_queue, delivery.pk))


def channel_credentials(channel: Channel) -> dict[str, Any]:
    """The channel's credentials, renewed first if the token lapses within
    REFRESH_AHEAD. Renewal happens under a lock on the channel: some networks' refresh
    tokens work once, so two workers must not both use one."""
    stored = secrets.unseal(channel.credentials)
    expiry = _expiry(stored)
    if expiry is None or expiry > timezone.now() + REFRESH_AHEAD:
        return stored
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        stored = secrets.unseal(locked.credentials)
        expiry = _expiry(stored)
        if expiry is None or expiry > timezone.now() + REFRESH_AHEAD:
            return stored  # another worker renewed it while we waited
        fresh = transport_for(locked.network).refresh(stored)
        if fresh is None:
            return stored
        locked.credentials = secrets.seal(fresh)
        locked.expires_at = _expiry(fresh)
        locked.problem = ""
        locked.save(update_fields=["credentials", "expires_at", "problem"])
        audit_record(
            actor=None,
            organisation=locked.organisation,
            action="channel.token_renewed",
            target=locked,
            before={"expires_at": expiry.isoformat()},
            after={"expires_at": locked.expires_at.isoformat() if locked.expires_at else ""},
        )
        return fresh


def _needs_reconnecting(channel: Channel, problem: str) -> None:
    """Hold the channel and tell the organisation's owners and managers, once."""
    changed = (
        Channel.objects.filter(pk=channel.pk)
        .exclude(status=Channel.Status.RECONNECT)
        .update(status=Channel.Status.RECONNECT, problem=problem[:300])
    )
    if not changed:
        return
    audit_record(
        actor=None,
        organisation=channel.organisation,
        action="channel.needs_reconnecting",
        target=channel,
        after={"problem": problem[:300]},
    )
    managers = Membership.objects.filter(
        organisation=channel.organisation, role__in=[Role.OWNER, Role.MANAGER]
    ).values_list("user__email", flat=True)
    try:
        send_mail(
            subject=f"civicloop: reconnect {channel.network_name} ({channel.handle})",
            message=(
                f"civicloop cannot publish to {channel.network_name} as {channel.handle}: "
                f"{problem}\n\nPosts for this account are held, not lost. A manager can "
                "reconnect it on the Channels page; held posts then go out, or can be retried "
                "from each post's page.\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[m for m in managers if m],
        )
    except (OSError, smtplib.SMTPException):
        logger.exception(
            "Could not tell %s that %s needs reconnecting", channel.organisation, channel
        )


def channels_refresh_due() -> int:
    """Every minute: renew tokens about to lapse, and warn about those that cannot be
    renewed. Returns how many were renewed."""
    now = timezone.now()
    renewed = 0
    for channel in Channel.objects.filter(
        status=Channel.Status.CONNECTED, expires_at__lt=now + WARN_AHEAD
    ).select_related("organisation"):
        try:
            before = channel.expires_at
            credentials = channel_credentials(channel)
        except base.AuthExpired as exc:
            _needs_reconnecting(channel, str(exc))
            continue
        except (base.DeliveryError, ImproperlyConfigured) as exc:
            logger.warning("Could not renew %s: %s", channel, exc)
            continue
        expiry = _expiry(credentials)
        if expiry is not None and before is not None and expiry > before:
            renewed += 1
        elif expiry is not None and expiry <= now:
            _needs_reconnecting(channel, _("The token has lapsed: reconnect the account."))
        elif expiry is not None and not credentials.get("refresh_token") and not channel.problem:
            Channel.objects.filter(pk=channel.pk).update(
                problem=_(
                    "The token lapses on %(date)s and cannot be renewed: reconnect before then."
                )
                % {"date": timezone.localtime(expiry).strftime("%-d %B %Y")}
            )
    return renewed


def deliveries_create(post: Any) -> list[Delivery]:
    """One delivery per network of a ready post that has a connected channel; each is
    queued for its publish time once the transaction commits."""

    made = []
    for channel in Channel.objects.filter(
        organisation=post.organisation,
        network__in=post.networks,
        status__in=[Channel.Status.CONNECTED, Channel.Status.RECONNECT],
    ):
        delivery, created = Delivery.objects.get_or_create(
            post=post, channel=channel, defaults={"not_before": post.publish_at}
        )
        if created:
            made.append(delivery)
        elif delivery.status == Delivery.Status.FAILED:
            # Lapsed before it was tried, or refused: the post was edited and resubmitted.
            # Failed means nothing went out; a tried one is still looked up first.
            delivery.status, delivery.error, delivery.not_before = (
                Delivery.Status.PENDING,
                "",
                post.publish_at,
            )
            delivery.save(update_fields=["status", "error", "not_before"])
            made.append(delivery)
    for delivery in made:
        transaction.on_commit(partial(_queue, delivery.pk, delivery.not_before))
    return made


def _queue(pk: int, when: dt.datetime | None = None) -> None:
    """Queue a delivery for ``when``. A backend that cannot defer tasks leaves it to
    :func:`deliveries_sweep`, which sends every delivery that is due."""
    from django.tasks.exceptions import InvalidTask

    from civicloop.channels.tasks import deliver

    if when is None or when <= timezone.now():
        deliver.enqueue(pk)
        return
    try:
        deliver.using(run_after=when).enqueue(pk)
    except InvalidTask:
        logger.info("Delivery %s waits for the sweep (the task backend cannot defer).", pk)


def deliveries_sweep() -> int:
    """Every minute: queue deliveries that are due but whose task never ran (lost from
    the queue, or a backend that cannot defer). The claim makes a duplicate harmless."""
    cutoff = timezone.now() - SWEEP_AFTER
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(
            Q(not_before__lt=cutoff)
            | Q(not_before__isnull=True, created_at__lt=cutoff, claimed_at__isnull=True)
            | Q(not_before__isnull=True, claimed_at__lt=cutoff)
        )
        .values_list("pk", flat=True)[:200]
    )
    for pk in due:
        _queue(pk)
    return len(due)


def _claim(delivery_id: int) -> Delivery | None:
    """PENDING → PUBLISHING in one UPDATE: a task delivered twice publishes once."""
    now = timezone.now()
    taken = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.PUBLISHING,
        claimed_at=now,
        first_attempt_at=Coalesce(F("first_attempt_at"), now),
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


IMAGE_SALT = "civicloop.channels.image"


def public_image_url(post: Any) -> str:
    """A signed address of the post's image, for networks that fetch it (Instagram).
    Empty unless CIVICLOOP_PUBLIC_URL says where civicloop is reachable."""
    root = getattr(settings, "CIVICLOOP_PUBLIC_URL", "")
    if not root or not post.image:
        return ""
    token = signing.dumps(post.code, salt=IMAGE_SALT)
    return root.rstrip("/") + reverse("channels:image", args=[token])


def _image(post: Any) -> base.Image | None:
    if not post.image:
        return None
    import mimetypes

    with post.image.open("rb") as f:
        data = f.read()
    content_type = mimetypes.guess_type(post.image.name)[0] or "application/octet-stream"
    return base.Image(
        data=data, content_type=content_type, alt=post.image_alt, url=public_image_url(post)
    )


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
    if channel.status != Channel.Status.CONNECTED:
        held = (
            _("The account was disconnected. Connect it again to publish this post.")
            if channel.status == Channel.Status.DISCONNECTED
            else _("The account needs reconnecting; the post goes out once it is.")
        )
        _finish(delivery, status=Delivery.Status.HELD, error=held)
        return delivery
    text = post.text_for(channel.network)
    transport = transport_for(channel.network)
    attempts = delivery.attempts + 1
    since = (delivery.first_attempt_at or timezone.now()).timestamp()
    try:
        credentials = channel_credentials(channel)
        found = (
            transport.find(credentials, key=delivery.key, text=text, since=since)
            if delivery.attempts
            else None
        )
        published = found or transport.publish(
            credentials, text=text, key=delivery.key, image=_image(delivery.post)
        )
    except base.AuthExpired as exc:
        _needs_reconnecting(channel, str(exc))
        _finish(delivery, status=Delivery.Status.HELD, error=str(exc), attempts=attempts)
    except ImproperlyConfigured as exc:
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
        _queue(delivery.pk, delivery.not_before)
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
            _queue(delivery.pk, wait)
    except base.Rejected as exc:
        _finish(delivery, status=Delivery.Status.FAILED, error=str(exc), attempts=attempts)
    except Exception:
        # A fault in civicloop or an answer it did not expect: the post may be out.
        logger.exception("Delivery %s failed unexpectedly", delivery.code)
        _finish(
            delivery,
            status=Delivery.Status.UNCONFIRMED,
            error=_("civicloop hit an unexpected error while publishing: check before retrying."),
            attempts=attempts,
        )
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
    transaction.on_commit(partial(_queue, delivery.pk))
    delivery.status = Delivery.Status.PENDING
    return delivery


def deliveries_mark_stale() -> int:
    """Deliveries stuck in PUBLISHING (a worker died mid-call) become unconfirmed. Timed
    from the claim, not the creation: a post scheduled days ahead is claimed at its time."""
    cutoff = timezone.now() - STALE_PUBLISHING
    stuck = Delivery.objects.filter(
        status=Delivery.Status.PUBLISHING, claimed_at__lt=cutoff
    ).select_related("channel__organisation")
    marked = 0
    for delivery in stuck:
        # One conditional UPDATE each, so a worker finishing meanwhile wins.
        if Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PUBLISHING).update(
            status=Delivery.Status.UNCONFIRMED, error=_("The worker stopped while publishing.")
        ):
            marked += 1
            audit_record(
                actor=None,
                organisation=delivery.channel.organisation,
                action="delivery.unconfirmed",
                target=delivery,
                before={"status": Delivery.Status.PUBLISHING},
                after={"status": Delivery.Status.UNCONFIRMED, "why": "worker stopped"},
            )
    return marked


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


def engagement_refresh(limit: int = 20) -> int:
    """Read replies, likes and shares again for posts published in the last fortnight,
    each at most every ENGAGEMENT_EVERY. A network that fails is tried next round."""
    now = timezone.now()
    due = (
        Delivery.objects.filter(
            status=Delivery.Status.PUBLISHED,
            published_at__gte=now - ENGAGEMENT_FOR,
            channel__status=Channel.Status.CONNECTED,
        )
        .filter(Q(engagement_at__isnull=True) | Q(engagement_at__lt=now - ENGAGEMENT_EVERY))
        .select_related("channel", "post__consultation")
        .order_by(F("engagement_at").asc(nulls_first=True))[:limit]
    )
    read = 0
    for delivery in due:
        fields: dict[str, Any] = {"engagement_at": now}
        transport = transport_for(delivery.channel.network)
        published = base.Published(remote_id=delivery.remote_id, url=delivery.url)
        try:
            credentials = channel_credentials(delivery.channel)
            counts = transport.engagement(credentials, published)
        except (base.DeliveryError, ImproperlyConfigured) as exc:
            logger.info("Engagement of %s not read: %s", delivery.code, exc)
            Delivery.objects.filter(pk=delivery.pk).update(**fields)  # tried again next round
            continue
        if counts is not None:
            fields.update(replies=counts.replies, likes=counts.likes, shares=counts.shares)
            read += 1
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        if delivery.post.consultation_id:
            replies_collect(delivery, transport, credentials, published)
    return read


def replies_collect(
    delivery: Delivery, transport: Any, credentials: dict[str, Any], published: base.Published
) -> int:
    """Replies to a post about a consultation become responses to it, on the "social
    media" channel, answering its first free-text question: once each (the reply's id
    is the response's idempotency key), only while the consultation is open, and never
    the organisation's own replies. Returns how many were new."""
    from civicloop.consultations import questions as qt
    from civicloop.consultations.models import Response
    from civicloop.consultations.services import ConsultationClosed, response_submit

    consultation = delivery.post.consultation
    if consultation is None or not consultation.is_accepting():
        return 0
    question = (
        consultation.questions.filter(type=qt.QuestionType.FREE_TEXT)
        .order_by("page__position", "position")
        .first()
    )
    if question is None:
        return 0
    channel = delivery.channel
    try:
        found = transport.replies(credentials, published)
    except (base.DeliveryError, ImproperlyConfigured) as exc:
        logger.info("Replies to %s not read: %s", delivery.code, exc)
        return 0
    own = channel.handle.casefold()
    new = 0
    for reply in found:
        text = reply.text.strip()
        if not text or reply.author.casefold() in (own, f"@{own.lstrip('@')}"):
            continue
        try:
            _response, created = response_submit(
                consultation=consultation,
                answers={question.key: text[: qt.max_length(question)]},
                channel=Response.Channel.SOCIAL,
                idempotency_key=f"reply:{channel.network}:{reply.remote_id}"[:100],
                respondent_name=f"{reply.author} on {channel.network_name}",
                validated=True,
            )
        except ConsultationClosed:
            break
        new += int(created)
    if new:
        Delivery.objects.filter(pk=delivery.pk).update(
            responses_counted=F("responses_counted") + new
        )
    return new
