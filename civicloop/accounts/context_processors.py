from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from civicloop.accounts.roles import Capability


def memberships(request: HttpRequest) -> dict[str, Any]:
    """The current organisation and what the person may do there, for the layout."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "membership": membership,
        "organisation": membership.organisation,
        "can": {cap.value: membership.can(cap) for cap in Capability},
    }
