from __future__ import annotations

from civicloop.accounts.models import Organisation
from civicloop.publishing import guidance
from civicloop.publishing.models import GuidancePolicy


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def policy_for(organisation: Organisation) -> guidance.Policy:
    """The organisation's guidance settings as the rule pack's plain data."""
    stored = GuidancePolicy.objects.filter(organisation=organisation).first()
    elections = tuple(
        guidance.ElectionPeriod(p.name, p.starts, p.ends)
        for p in organisation.election_periods.all()
    )
    if stored is None:
        return guidance.Policy(elections=elections)
    return guidance.Policy(
        disabled=frozenset(stored.disabled_rules),
        blocked_words=_lines(stored.blocked_words),
        sensitive_topics=_lines(stored.sensitive_topics),
        elections=elections,
        own_rules=tuple(
            guidance.WordRule(
                id=str(r["id"]),
                words=tuple(r.get("words", [])),
                level=str(r.get("level", guidance.ADVICE)),
                message=str(r.get("message", "")),
            )
            for r in stored.own_rules
        ),
        max_reading_age=stored.max_reading_age,
    )


def review_summary(organisation: Organisation) -> dict[str, object]:
    """Share of submitted posts that needed review, and the median wait for a decision."""
    import statistics

    from civicloop.publishing.models import Post

    submitted = Post.objects.filter(organisation=organisation, submitted_at__isnull=False)
    total = submitted.count()
    reviewed = submitted.filter(reviews__isnull=False).distinct()
    needed = submitted.filter(risk="high").count()
    waits = []
    for post in reviewed.prefetch_related("reviews"):
        first = post.reviews.all()[0]
        if post.submitted_at:
            waits.append((first.created_at - post.submitted_at).total_seconds() / 60)
    return {
        "submitted": total,
        "needed_review": needed,
        "share": needed / total if total else 0.0,
        "median_wait_minutes": statistics.median(waits) if waits else None,
        "waiting": submitted.filter(status=Post.Status.IN_REVIEW).count(),
    }
