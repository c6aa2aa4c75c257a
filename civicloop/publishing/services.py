"""Changing an organisation's guidance settings; every change is audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Membership, Organisation, User
from civicloop.accounts.roles import Capability
from civicloop.channels.limits import NETWORKS as LIMITS
from civicloop.channels.limits import TYPE_NAMES
from civicloop.publishing import guidance
from civicloop.publishing.models import ElectionPeriod, GuidancePolicy, Post, PostReview
from civicloop.publishing.selectors import policy_for


def _policy(organisation: Organisation) -> GuidancePolicy:
    policy, _created = GuidancePolicy.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    return policy


def _snapshot(policy: GuidancePolicy) -> dict[str, Any]:
    return {
        "disabled_rules": list(policy.disabled_rules),
        "blocked_words": policy.blocked_words,
        "sensitive_topics": policy.sensitive_topics,
        "max_reading_age": policy.max_reading_age,
        "own_rules": list(policy.own_rules),
    }


@transaction.atomic
def guidance_settings_update(
    *,
    actor: User,
    organisation: Organisation,
    enabled_rules: list[str],
    blocked_words: str,
    sensitive_topics: str,
    max_reading_age: int,
) -> GuidancePolicy:
    unknown = set(enabled_rules) - set(guidance.RULES)
    if unknown:
        raise ValidationError(
            _("Unknown rules: %(rules)s.") % {"rules": ", ".join(sorted(unknown))}
        )
    if not 6 <= max_reading_age <= 20:
        raise ValidationError({"max_reading_age": _("Choose a reading age between 6 and 20.")})
    policy = _policy(organisation)
    before = _snapshot(policy)
    own_ids = [r["id"] for r in policy.own_rules]
    kept_off = [r for r in policy.disabled_rules if r in own_ids]
    policy.disabled_rules = sorted(set(guidance.RULES) - set(enabled_rules)) + kept_off
    policy.blocked_words = blocked_words.strip()
    policy.sensitive_topics = sensitive_topics.strip()
    policy.max_reading_age = max_reading_age
    policy.save()
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.settings_changed",
        target=organisation,
        before=before,
        after=_snapshot(policy),
    )
    return policy


@transaction.atomic
def own_rule_add(
    *, actor: User, organisation: Organisation, words: str, level: str, message: str
) -> dict[str, Any]:
    listed = [w.strip() for w in re.split(r"[\n,]", words) if w.strip()]
    if not listed:
        raise ValidationError({"words": _("Enter at least one word or phrase.")})
    if level not in (guidance.ADVICE, guidance.REVIEW):
        raise ValidationError({"level": _("Choose advice or needs review.")})
    if not message.strip():
        raise ValidationError({"message": _("Enter the message authors will see.")})
    policy = _policy(organisation)
    taken = {r["id"] for r in policy.own_rules}
    number = len(policy.own_rules) + 1
    while f"own-{number}" in taken:
        number += 1
    new = {"id": f"own-{number}", "words": listed, "level": level, "message": message.strip()}
    policy.own_rules = [*policy.own_rules, new]
    policy.save(update_fields=["own_rules"])
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.rule_added",
        target=organisation,
        after=new,
    )
    return new


@transaction.atomic
def own_rule_remove(*, actor: User, organisation: Organisation, rule_id: str) -> None:
    policy = _policy(organisation)
    removed = [r for r in policy.own_rules if r["id"] == rule_id]
    if not removed:
        raise ValidationError(_("That rule does not exist."))
    policy.own_rules = [r for r in policy.own_rules if r["id"] != rule_id]
    policy.disabled_rules = [r for r in policy.disabled_rules if r != rule_id]
    policy.save(update_fields=["own_rules", "disabled_rules"])
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.rule_removed",
        target=organisation,
        before=removed[0],
    )


@transaction.atomic
def election_period_add(
    *, actor: User, organisation: Organisation, name: str, starts: dt.date, ends: dt.date
) -> ElectionPeriod:
    if ends < starts:
        raise ValidationError(
            {"ends": _("Polling day must be on or after the start of the period.")}
        )
    period = ElectionPeriod(organisation=organisation, name=name.strip(), starts=starts, ends=ends)
    period.full_clean()
    period.save()
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.election_added",
        target=organisation,
        after={"name": period.name, "starts": starts.isoformat(), "ends": ends.isoformat()},
    )
    return period


@transaction.atomic
def election_period_remove(*, actor: User, organisation: Organisation, pk: int) -> None:
    period = ElectionPeriod.objects.filter(organisation=organisation, pk=pk).first()
    if period is None:
        raise ValidationError(_("That election period does not exist."))
    audit_record(
        actor=actor,
        organisation=organisation,
        action="guidance.election_removed",
        target=organisation,
        before={
            "name": period.name,
            "starts": period.starts.isoformat(),
            "ends": period.ends.isoformat(),
        },
    )
    period.delete()


# Posts ------------------------------------------------------------------------------

NETWORKS = list(LIMITS)
# A little slack so a post scheduled "now" is not refused for the seconds it took to submit.
SCHEDULE_SLACK = dt.timedelta(minutes=2)


def post_report(
    post: Post, policy: guidance.Policy, *, has_image: bool | None = None
) -> guidance.Report:
    """Guidance findings for every network the post goes to, merged, worst first."""

    if has_image is None:
        has_image = bool(post.image)
    images = (guidance.Image(post.image_alt),) if has_image else ()
    on = timezone.localdate(post.publish_at) if post.publish_at else timezone.localdate()
    merged = guidance.Report()
    seen: set[tuple[str, str, str]] = set()
    for network in post.networks or [None]:
        text = post.text_for(network) if network else post.text
        for finding in guidance.check(guidance.Draft(text, network, images, on), policy).findings:
            key = (finding.rule, finding.level, finding.message)
            if key not in seen:
                seen.add(key)
                merged.findings.append(finding)
    passed = {f.rule for f in merged.findings if f.level != guidance.PASS}
    merged.findings = [
        f for f in merged.findings if f.level != guidance.PASS or f.rule not in passed
    ]
    order = {guidance.REVIEW: 0, guidance.ADVICE: 1, guidance.PASS: 2}
    merged.findings.sort(key=lambda f: order[f.level])
    return merged


def post_counts(post: Post) -> list[dict[str, Any]]:
    """Characters used and allowed on each chosen network, counted its way."""
    counts = []
    for n in NETWORKS:
        if n in post.networks:
            used = guidance.text_length(post.text_for(n), n)
            limit = LIMITS[n].characters
            counts.append(
                {"network": LIMITS[n].name, "used": used, "limit": limit, "over": used > limit}
            )
    return counts


def alt_count(post: Post) -> dict[str, Any] | None:
    """The alt text's length against the strictest chosen network, when there is one."""
    if not post.image_alt or not post.networks:
        return None
    strictest = min(
        (n for n in post.networks if n in LIMITS), key=lambda n: LIMITS[n].alt_characters
    )
    limit = LIMITS[strictest].alt_characters
    used = len(post.image_alt)
    return {"network": LIMITS[strictest].name, "used": used, "limit": limit, "over": used > limit}


def _check_image(image: Any, networks: list[str], alt: str) -> None:
    """Type, size and alt-text length against every chosen network's limits."""
    if not image:
        return
    content_type = getattr(image, "content_type", "") or ""
    if content_type and content_type not in TYPE_NAMES:
        raise ValidationError({"image": _("The image must be a JPEG, PNG, GIF or WebP file.")})
    wrong_type = [
        LIMITS[n].name
        for n in networks
        if content_type and content_type not in LIMITS[n].image_types
    ]
    if wrong_type:
        raise ValidationError(
            {
                "image": _("%(networks)s cannot take a %(type)s image: use a JPEG.")
                % {"networks": ", ".join(wrong_type), "type": TYPE_NAMES[content_type]}
            }
        )
    too_big = [n for n in networks if image.size > LIMITS[n].image_bytes]
    if too_big:
        limit = min(LIMITS[n].image_bytes for n in too_big)
        raise ValidationError(
            {
                "image": _(
                    "The image is %(size)s MB; the most %(networks)s can take is %(limit)s MB."
                )
                % {
                    "size": f"{image.size / 1_000_000:.1f}",
                    "networks": ", ".join(LIMITS[n].name for n in too_big),
                    "limit": f"{limit / 1_000_000:.1f}",
                }
            }
        )
    too_long = [n for n in networks if len(alt) > LIMITS[n].alt_characters]
    if too_long:
        limit = min(LIMITS[n].alt_characters for n in too_long)
        raise ValidationError(
            {
                "image_alt": _(
                    "The alt text has %(used)s characters; %(networks)s allow %(limit)s."
                )
                % {
                    "used": len(alt),
                    "networks": ", ".join(LIMITS[n].name for n in too_long),
                    "limit": limit,
                }
            }
        )


def _audit_post(actor: User | None, post: Post, action: str, **extra: Any) -> None:
    audit_record(
        actor=actor,
        organisation=post.organisation,
        action=action,
        target=post,
        after={"status": post.status, "risk": post.risk, **extra},
    )


@transaction.atomic
def post_save(
    *,
    actor_membership: Membership,
    post: Post | None = None,
    text: str,
    networks: list[str],
    variants: dict[str, str] | None = None,
    link: str = "",
    image: Any = None,
    image_alt: str = "",
    audience: str = "",
    publish_at: dt.datetime | None = None,
    consultation: Any = None,
) -> Post:
    """Create or edit a post and store its guidance findings. Authors edit their own
    drafts; a reviewer may edit a post waiting for review before approving it."""

    actor = actor_membership.user
    organisation = actor_membership.organisation
    if post is not None:
        editable_by_author = post.status in (
            Post.Status.DRAFT,
            Post.Status.SENT_BACK,
            Post.Status.LAPSED,
        )
        reviewing = post.status == Post.Status.IN_REVIEW and actor_membership.can(
            Capability.APPROVE
        )
        editable_by_author = editable_by_author or post.refused_everywhere
        if post.organisation_id != organisation.pk or not (
            (editable_by_author and post.author_id == actor.pk) or reviewing
        ):
            raise ValidationError(_("This post cannot be edited now."))
    if not text.strip():
        raise ValidationError({"text": _("Write the post.")})
    chosen = [n for n in NETWORKS if n in set(networks)]
    if not chosen:
        raise ValidationError({"networks": _("Choose at least one network.")})
    needs_image = [LIMITS[n].name for n in chosen if LIMITS[n].image_required]
    if needs_image and not (image or (post and post.image)):
        raise ValidationError(
            {"image": _("%(networks)s posts need an image.") % {"networks": ", ".join(needs_image)}}
        )
    if publish_at is not None and publish_at < timezone.now() - SCHEDULE_SLACK:
        raise ValidationError(
            {"publish_at": _("The publish time has passed. Choose a time in the future.")}
        )
    _check_image(image, chosen, image_alt.strip())
    if consultation is not None and consultation.organisation_id != organisation.pk:
        raise ValidationError({"consultation": _("Choose one of your own consultations.")})
    if post is None:
        post = Post(organisation=organisation, author=actor)
    post.text = text.strip()
    post.networks = chosen
    post.variants = {n: v.strip() for n, v in (variants or {}).items() if n in chosen and v.strip()}
    post.link = link.strip()
    if image:
        post.image = image
    post.image_alt = image_alt.strip()
    post.audience = audience.strip()
    post.publish_at = publish_at
    post.consultation = consultation
    report = post_report(post, policy_for(organisation))
    post.findings = [f.__dict__ for f in report.problems()]
    post.risk = report.risk
    if post.status in (Post.Status.LAPSED, Post.Status.READY):
        post.status = Post.Status.DRAFT  # refused everywhere: checked and submitted anew
    post.full_clean(exclude=["image"])
    post.save()
    _audit_post(actor, post, "post.saved", networks=chosen)
    return post


@transaction.atomic
def post_submit(*, actor_membership: Membership, post: Post) -> Post:
    """Low risk: ready to publish without sign-off. High risk: to the review queue."""

    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.author_id != actor_membership.user.pk:
        raise ValidationError(_("Only the author can submit this post."))
    if post.status not in (Post.Status.DRAFT, Post.Status.SENT_BACK, Post.Status.LAPSED):
        raise ValidationError(_("This post has already been submitted."))
    if post.deliveries.filter(status="published").exists():
        raise ValidationError(_("This post has already been published."))
    if post.publish_at is not None and post.publish_at < timezone.now() - SCHEDULE_SLACK:
        raise ValidationError(
            _("The publish time has passed. Edit the post and choose a new time.")
        )
    too_long = [c for c in post_counts(post) if c["over"]]
    if too_long:
        raise ValidationError(
            _(
                "Too long for %(networks)s. Shorten it, or write a shorter version for that network, and submit again."
            )
            % {
                "networks": ", ".join(
                    f"{c['network']} ({c['used']} of {c['limit']} characters)" for c in too_long
                )
            }
        )
    report = post_report(post, policy_for(post.organisation))
    post.findings = [f.__dict__ for f in report.problems()]
    post.risk = report.risk
    post.submitted_at = timezone.now()
    post.status = Post.Status.IN_REVIEW if report.needs_review else Post.Status.READY
    post.save()
    _audit_post(actor_membership.user, post, "post.submitted")
    if post.status == Post.Status.READY:
        _deliver(post)
    return post


def _deliver(post: Post) -> None:
    from civicloop.channels.services import deliveries_create

    deliveries_create(post)


@transaction.atomic
def post_review(
    *, actor_membership: Membership, post: Post, decision: str, comment: str = ""
) -> Post:

    post = Post.objects.select_for_update().get(pk=post.pk)
    if (
        not actor_membership.can(Capability.APPROVE)
        or post.organisation_id != actor_membership.organisation_id
    ):
        raise ValidationError(_("You cannot review posts."))
    if post.author_id == actor_membership.user.pk:
        raise ValidationError(_("You cannot review your own post: ask another manager."))
    if post.status != Post.Status.IN_REVIEW:
        raise ValidationError(_("This post is not waiting for review."))
    if post.publish_at is not None and post.publish_at < timezone.now():
        post.status = Post.Status.LAPSED
        post.save(update_fields=["status"])
        _audit_post(actor_membership.user, post, "post.lapsed")
        raise ValidationError(_("Its publish time has passed: the author must choose a new time."))
    if decision == PostReview.Decision.SENT_BACK and not comment.strip():
        raise ValidationError({"comment": _("Say what needs to change.")})
    if decision not in PostReview.Decision.values:
        raise ValidationError(_("Approve or send back."))
    PostReview.objects.create(
        post=post, reviewer=actor_membership.user, decision=decision, comment=comment.strip()
    )
    post.status = (
        Post.Status.READY if decision == PostReview.Decision.APPROVED else Post.Status.SENT_BACK
    )
    post.save(update_fields=["status"])
    _audit_post(actor_membership.user, post, f"post.{decision}", comment=comment.strip())
    if post.status == Post.Status.READY:
        _deliver(post)
    return post


@transaction.atomic
def posts_lapse_overdue(organisation: Organisation) -> int:
    """Posts still waiting for review when their publish time comes lapse: an approval
    given later would publish them late, so the author must choose a new time."""

    overdue = list(
        Post.objects.select_for_update().filter(
            organisation=organisation, status=Post.Status.IN_REVIEW, publish_at__lt=timezone.now()
        )
    )
    for post in overdue:
        post.status = Post.Status.LAPSED
        post.save(update_fields=["status"])
        _audit_post(None, post, "post.lapsed")
    return len(overdue)
