"""Publishing pages: compose posts, check them against the guidance, review risky
ones, and an organisation's guidance settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.access import org_view
from civicloop.accounts.forms import add_service_errors
from civicloop.accounts.roles import Capability
from civicloop.channels.limits import NETWORKS as LIMITS
from civicloop.publishing import guidance, services
from civicloop.publishing.forms import (
    VARIANT_NETWORKS,
    CheckPostForm,
    ElectionForm,
    GuidanceSettingsForm,
    OwnRuleForm,
    PostForm,
    ReviewForm,
)
from civicloop.publishing.models import GuidancePolicy, Post
from civicloop.publishing.selectors import policy_for, review_summary


@org_view(read=Capability.DRAFT, write=Capability.DRAFT)
def check(request: HttpRequest) -> HttpResponse:
    """Paste a post, see every finding. Works without JavaScript (submit the form);
    with htmx the findings refresh as the author types."""
    organisation = request.organisation  # type: ignore[attr-defined]
    form = CheckPostForm(request.POST or None)
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        images: tuple[guidance.Image, ...] = ()
        if data["image_alt"].strip() or data["has_image"]:
            images = (guidance.Image(data["image_alt"]),)
        report = guidance.check(
            guidance.Draft(
                data["text"],
                network=data["network"] or None,
                images=images,
                on=data["on"] or timezone.localdate(),
            ),
            policy_for(organisation),
        )
    template = (
        "publishing/_findings.html"
        if request.headers.get("HX-Request")
        else "publishing/check.html"
    )
    return render(request, template, {"form": form, "report": report})


@org_view(read=Capability.CONFIGURE, write=Capability.CONFIGURE)
def settings(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    stored = GuidancePolicy.objects.filter(organisation=organisation).first()
    disabled = set(stored.disabled_rules) if stored else set()
    initial = {
        "enabled_rules": [r for r in guidance.RULES if r not in disabled],
        "blocked_words": stored.blocked_words if stored else "",
        "sensitive_topics": stored.sensitive_topics if stored else "",
        "max_reading_age": stored.max_reading_age if stored else 14,
    }
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = GuidanceSettingsForm(request.POST if action == "settings" else None, initial=initial)
    rule_form = OwnRuleForm(request.POST if action == "add_rule" else None, prefix="rule")
    election_form = ElectionForm(
        request.POST if action == "add_election" else None, prefix="election"
    )
    failed = None
    if request.method == "POST":
        actor: Any = request.user
        try:
            if action == "settings" and form.is_valid():
                services.guidance_settings_update(
                    actor=actor, organisation=organisation, **form.cleaned_data
                )
                messages.success(request, _("Guidance settings saved."))
                return redirect(request.path)
            if action == "add_rule" and rule_form.is_valid():
                services.own_rule_add(
                    actor=actor, organisation=organisation, **rule_form.cleaned_data
                )
                messages.success(request, _("Rule added."))
                return redirect(request.path)
            if action == "remove_rule":
                services.own_rule_remove(
                    actor=actor,
                    organisation=organisation,
                    rule_id=request.POST.get("rule", ""),
                )
                messages.success(request, _("Rule removed."))
                return redirect(request.path)
            if action == "add_election" and election_form.is_valid():
                services.election_period_add(
                    actor=actor, organisation=organisation, **election_form.cleaned_data
                )
                messages.success(request, _("Election period added."))
                return redirect(request.path)
            if action == "remove_election":
                try:
                    pk = int(request.POST.get("election", ""))
                except ValueError:
                    pk = 0
                services.election_period_remove(actor=actor, organisation=organisation, pk=pk)
                messages.success(request, _("Election period removed."))
                return redirect(request.path)
        except ValidationError as exc:
            target = {"settings": form, "add_rule": rule_form, "add_election": election_form}.get(
                action
            )
            if target is None:
                messages.error(request, " ".join(exc.messages))
                return redirect(request.path)
            add_service_errors(exc, target)
        failed = {"settings": form, "add_rule": rule_form, "add_election": election_form}.get(
            action
        )
    return render(
        request,
        "publishing/settings.html",
        {
            "form": form,
            "rule_form": rule_form,
            "election_form": election_form,
            "failed": failed,
            "own_rules": stored.own_rules if stored else [],
            "elections": organisation.election_periods.all(),
            "sources": {rule_id: source for rule_id, (_t, source, _f) in guidance.RULES.items()},
        },
    )


# Posts --------------------------------------------------------------------------------


def _post(request: HttpRequest, code: str) -> Post:
    from django.http import Http404

    post = Post.objects.filter(organisation=request.organisation, code=code).first()  # type: ignore[attr-defined]
    if post is None:
        raise Http404
    return post


@org_view()
def posts(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    from civicloop.channels.models import Channel

    items = (
        Post.objects.filter(organisation=organisation)
        .select_related("author")
        .prefetch_related("deliveries__channel")[:200]
    )
    attention = Channel.objects.filter(organisation=organisation, status=Channel.Status.RECONNECT)
    return render(request, "publishing/posts.html", {"posts": items, "attention": attention})


def _post_initial(post: Post) -> dict[str, Any]:
    return {
        "text": post.text,
        "networks": post.networks,
        **{f"variant_{n}": post.variants.get(n, "") for n in VARIANT_NETWORKS},
        "link": post.link,
        "image_alt": post.image_alt,
        "audience": post.audience,
        "consultation": post.consultation.code if post.consultation else "",
        "publish_at": timezone.localtime(post.publish_at).strftime("%Y-%m-%dT%H:%M")
        if post.publish_at
        else None,
    }


@org_view(read=Capability.DRAFT, write=Capability.DRAFT)
def compose(request: HttpRequest, code: str = "") -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    post = _post(request, code) if code else None
    from civicloop.consultations.models import Consultation

    consultations = Consultation.objects.filter(
        organisation=membership.organisation,
        status__in=[
            Consultation.Status.DRAFT,
            Consultation.Status.SCHEDULED,
            Consultation.Status.OPEN,
            Consultation.Status.PUBLISHED,
        ],
    ).order_by("-pk")[:100]
    form = PostForm(
        request.POST or None,
        request.FILES or None,
        initial=_post_initial(post) if post else {"networks": ["bluesky", "mastodon"]},
        consultations=consultations,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            post = services.post_save(
                actor_membership=membership,
                post=post,
                text=data["text"],
                networks=data["networks"],
                variants={n: data[f"variant_{n}"] for n in VARIANT_NETWORKS},
                link=data["link"],
                image=data["image"],
                image_alt=data["image_alt"],
                audience=data["audience"],
                publish_at=data["publish_at"],
                consultation=next(
                    (c for c in consultations if c.code == data["consultation"]), None
                ),
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Saved and checked against the guidance."))
            return redirect(
                "publishing:post", org_slug=membership.organisation.slug, code=post.code
            )
    # Editing: the findings stored when it was last saved (typing refreshes them).
    panel = _panel(post, _stored_report(post)) if post else {"counts": [], "report": None}
    return render(request, "publishing/compose.html", {"form": form, "post": post, **panel})


def _stored_report(post: Post) -> guidance.Report:
    return guidance.Report([guidance.Finding(**f) for f in post.findings])


def _panel(post: Post, report: guidance.Report | None) -> dict[str, Any]:
    """The composer's side panel: each network's count, the alt text's, the findings."""
    return {
        "report": report,
        "counts": services.post_counts(post),
        "alt": services.alt_count(post),
    }


@org_view(read=Capability.DRAFT, write=Capability.DRAFT)
def compose_check(request: HttpRequest) -> HttpResponse:
    """The composer's findings and character counts, refreshed by htmx as the author
    types (the image itself is not sent; its alt text and a has-image flag are)."""
    organisation = request.organisation  # type: ignore[attr-defined]
    data = request.POST
    networks = [n for n in services.NETWORKS if n in data.getlist("networks")]
    draft = Post(
        organisation=organisation,
        text=data.get("text", "")[:10_000].strip(),
        networks=networks,
        variants={n: data.get(f"variant_{n}", "")[:1000] for n in VARIANT_NETWORKS},
        link=data.get("link", "")[:500],
        image_alt=data.get("image_alt", "")[:2000],
    )
    report = None
    if draft.text.strip():
        has_image = bool(data.get("has_image")) or bool(draft.image_alt.strip())
        report = services.post_report(draft, policy_for(organisation), has_image=has_image)
    return render(request, "publishing/_compose_findings.html", _panel(draft, report))


@org_view(write=Capability.DRAFT)
def post_detail(request: HttpRequest, code: str) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    post = _post(request, code)
    review_form = ReviewForm(request.POST if request.POST.get("action") == "review" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "submit":
                post = services.post_submit(actor_membership=membership, post=post)
                if post.status == Post.Status.IN_REVIEW:
                    messages.success(request, _("Sent to a manager for review."))
                else:
                    messages.success(request, _("No review needed: the post is ready to publish."))
                return redirect(request.path)
            if request.POST.get("action") == "retry":
                from civicloop.channels.services import delivery_retry

                delivery = post.deliveries.filter(code=request.POST.get("delivery", "")).first()
                if delivery is None:
                    raise ValidationError(_("That delivery does not exist."))
                delivery_retry(actor=request.user, delivery=delivery)  # type: ignore[arg-type]
                messages.success(request, _("Trying again. civicloop checks the network first."))
                return redirect(request.path)
            if request.POST.get("action") == "review" and review_form.is_valid():
                post = services.post_review(
                    actor_membership=membership, post=post, **review_form.cleaned_data
                )
                messages.success(request, _("Review recorded."))
                return redirect(request.path)
        except ValidationError as exc:
            if request.POST.get("action") == "review":
                add_service_errors(exc, review_form)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect(request.path)
    report = _stored_report(post)
    deliveries = list(post.deliveries.select_related("channel"))
    return render(
        request,
        "publishing/post.html",
        {
            "post": post,
            "report": report,
            "texts": [(LIMITS[n].name, post.text_for(n)) for n in post.networks if n in LIMITS],
            "reviews": post.reviews.select_related("reviewer"),
            "deliveries": deliveries,
            "unreached": [
                LIMITS[n].name
                for n in post.networks
                if n in LIMITS and n not in {d.channel.network for d in deliveries}
            ]
            if post.status == Post.Status.READY
            else [],
            "review_form": review_form,
            "can_review": membership.can(Capability.APPROVE) and post.author_id != request.user.pk,
            "is_author": post.author_id == request.user.pk,
        },
    )


@org_view(read=Capability.APPROVE)
def review_queue(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    # Reading the queue changes nothing: posts whose time has passed are left out here
    # and lapsed by the worker's minute task (and refused if someone tries to approve).
    waiting = (
        Post.objects.filter(organisation=organisation, status=Post.Status.IN_REVIEW)
        .exclude(publish_at__lt=timezone.now())
        .select_related("author")
    )
    return render(
        request,
        "publishing/review_queue.html",
        {"posts": waiting.order_by("submitted_at"), "summary": review_summary(organisation)},
    )
