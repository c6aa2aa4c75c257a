"""The one door to staff pages of an organisation.

``org_view`` resolves ``org_slug`` to the signed-in person's membership (404 if
they have none: an outsider learns nothing, not even that the organisation
exists) and checks the capability the request needs: ``read`` for GET and HEAD,
``write`` for everything else (403 when the role lacks it; 405 on read-only pages)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.utils.translation import gettext as _

from civicloop.accounts.models import Membership
from civicloop.accounts.roles import Capability
from civicloop.accounts.selectors import membership_get_for_user
from civicloop.middleware import activate_organisation_timezone

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def require_capability(membership: Membership, capability: Capability) -> None:
    """Raise PermissionDenied unless ``membership``'s role has ``capability`` (for services)."""
    if not membership.can(capability):
        raise PermissionDenied(_("Your role does not allow this."))


def org_view(
    *, read: Capability = Capability.VIEW, write: Capability | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(
            request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_get_for_user(user=request.user, org_slug=org_slug)
            if request.method in SAFE_METHODS:
                needed = read
            elif write is None:
                return HttpResponseNotAllowed(sorted(SAFE_METHODS))
            else:
                needed = write
            if not membership.can(needed):
                raise PermissionDenied
            activate_organisation_timezone(membership.organisation)
            request.membership = membership  # type: ignore[attr-defined]
            request.organisation = membership.organisation  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapped.civicloop_org_view = True  # type: ignore[attr-defined]
        return wrapped

    return decorator
