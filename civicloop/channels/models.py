"""Connected accounts and the delivery of each post to each of them."""

from __future__ import annotations

import random
import time
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.models import Organisation
from civicloop.channels.limits import NETWORKS
from civicloop.lib.codes import new_code

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def new_tid() -> str:
    """An AT Protocol timestamp identifier: microseconds since 1970 and a random clock id,
    13 sortable base-32 characters. Used as the delivery's record key."""
    value = (time.time_ns() // 1000) << 10 | random.randrange(1024)
    out = []
    for _i in range(13):
        out.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


class Channel(models.Model):
    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        RECONNECT = "reconnect", _("Needs reconnecting")
        DISCONNECTED = "disconnected", _("Disconnected")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="channels"
    )
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    network = models.CharField(max_length=20)
    handle = models.CharField(max_length=200)
    credentials = models.TextField(blank=True)  # sealed with civicloop.channels.secrets
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONNECTED)
    problem = models.CharField(max_length=300, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)  # when the stored token lapses

    def __str__(self) -> str:
        return f"{self.network}: {self.handle}"

    @property
    def network_name(self) -> str:
        return NETWORKS[self.network].name if self.network in NETWORKS else self.network


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be published")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        UNCONFIRMED = "unconfirmed", _("Unconfirmed — check before retrying")
        HELD = "held", _("Held: reconnect the account")
        FAILED = "failed", _("Failed")

    post = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="deliveries")
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    key = models.CharField(max_length=64, default=new_tid)  # the network-side idempotency key
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    remote_id = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a worker last took it
    first_attempt_at = models.DateTimeField(null=True, blank=True)  # lookups search from here
    replies = models.PositiveIntegerField(null=True, blank=True)
    likes = models.PositiveIntegerField(null=True, blank=True)
    shares = models.PositiveIntegerField(null=True, blank=True)
    engagement_at = models.DateTimeField(null=True, blank=True)
    # Replies stored as responses to the post's consultation (each once: keyed by reply id).
    responses_counted = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["post", "channel"], name="channels_one_delivery_per_channel"
            ),
            models.UniqueConstraint(fields=["channel", "key"], name="channels_key_once"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.code} ({self.status})"
