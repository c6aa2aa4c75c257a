from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.roles import Capability, Role, role_can
from civicloop.lib.codes import new_code
from civicloop.lib.colour import HEX_COLOUR, contrast_ratio


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Staff access to an organisation comes from a Membership;
    ``is_staff`` only opens Django admin, for the platform operator."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("full name"), max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text=_("Platform operator: may use the Django admin.")
    )
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(tz)s is not a time zone name like Europe/London."), params={"tz": value}
        )


def validate_brand_colour(value: str) -> None:
    if not HEX_COLOUR.match(value):
        raise ValidationError(_("Enter a colour as # followed by six hex digits, like #1d70b8."))
    # White text sits on the brand colour in the public header: WCAG AA needs 4.5:1.
    if contrast_ratio(value, "#ffffff") < 4.5:
        raise ValidationError(
            _(
                "White text on this colour is hard to read (contrast %(ratio).1f:1, needs 4.5:1). "
                "Choose a darker colour."
            ),
            params={"ratio": contrast_ratio(value, "#ffffff")},
        )


validate_office_days = RegexValidator(
    r"^(?!.*(.).*\1)[0-6]{1,7}$",
    _("Office days are digits 0 (Monday) to 6 (Sunday), each at most once, like 01234."),
)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", _("Council")
        DEPARTMENT = "department", _("Government department or agency")
        HOUSING = "housing", _("Housing association or landlord")
        CARE = "care", _("Care provider")
        SUPPORT = "support", _("Support provider")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("web address name"),
        max_length=60,
        unique=True,
        help_text=_("Lower-case letters, numbers and hyphens; used in public web addresses."),
    )
    kind = models.CharField(_("kind of organisation"), max_length=20, choices=Kind.choices)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/London", validators=[validate_timezone]
    )
    office_opens = models.TimeField(_("office opens"), default=dt.time(9, 0))
    office_closes = models.TimeField(_("office closes"), default=dt.time(17, 0))
    office_days = models.CharField(
        _("office days"), max_length=7, default="01234", validators=[validate_office_days]
    )
    brand_colour = models.CharField(
        _("brand colour"), max_length=7, default="#24455e", validators=[validate_brand_colour]
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.office_opens and self.office_closes and self.office_opens >= self.office_closes:
            raise ValidationError({"office_closes": _("The office must close after it opens.")})

    def is_open_at(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` falls in office hours, in the organisation's own time zone."""
        local = moment.astimezone(zoneinfo.ZoneInfo(self.timezone))
        return (
            str(local.weekday()) in self.office_days
            and self.office_opens <= local.time() < self.office_closes
        )


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")
        ]
        ordering: ClassVar[list[str]] = ["user__name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"

    def can(self, capability: Capability) -> bool:
        return role_can(self.role, capability)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Invitation(models.Model):
    """An emailed invitation to join an organisation with a role. Only the hash of
    the token is stored, so a database leak does not hand out memberships."""

    INVITATION_DAYS = 14

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Withdrawn")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.role})"

    def is_usable(self, moment: dt.datetime | None = None) -> bool:
        return self.status == self.Status.PENDING and (moment or now()) < self.expires_at


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """One state change: who, when, in which organisation, what, and a summary of
    the values before and after. Append-only: the application can only add rows,
    and database triggers refuse UPDATE and DELETE."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Kept as text too, so the record reads the same after a person's name changes.
    actor_label = models.CharField(max_length=300)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_code = models.CharField(max_length=80, blank=True)
    object_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]
        indexes: ClassVar[list[Any]] = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each key mentioned, for display."""
        keys = list(dict.fromkeys([*self.before, *self.after]))
        return [(k, self.before.get(k), self.after.get(k)) for k in keys]
