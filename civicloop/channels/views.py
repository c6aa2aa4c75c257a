"""Connected accounts: connect any network, see each channel's state, reconnect,
disconnect. Also the signed public address of a post's image (for Instagram)."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civicloop.accounts.access import org_view
from civicloop.accounts.forms import add_service_errors
from civicloop.accounts.roles import Capability
from civicloop.channels import services
from civicloop.channels.forms import connect_form
from civicloop.channels.limits import NETWORKS
from civicloop.channels.models import Channel
from civicloop.channels.registry import TRANSPORTS


@org_view(read=Capability.CONFIGURE, write=Capability.CONFIGURE)
def channels(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    network = request.POST.get("network") or request.GET.get("network") or ""
    if request.method == "POST" and request.POST.get("action") == "connect" and not network:
        network = "bluesky"  # the first form civicloop had; kept for old bookmarks
    transport = TRANSPORTS.get(network)
    form = None
    if transport is not None:
        posted = request.POST if request.POST.get("action") == "connect" else None
        form = connect_form(transport, posted)
    if request.method == "POST":
        if request.POST.get("action") == "disconnect":
            channel = Channel.objects.filter(
                organisation=membership.organisation, code=request.POST.get("channel", "")
            ).first()
            if channel is not None:
                services.channel_disconnect(actor_membership=membership, channel=channel)
                messages.success(request, _("Disconnected."))
            return redirect(request.path)
        if transport is not None and form is not None and form.is_valid():
            try:
                services.channel_connect(
                    actor_membership=membership, network=network, credentials=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(exc, form)
            except ImproperlyConfigured as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("%(network)s account connected.") % {"network": transport.label}
                )
                return redirect(request.path)
    return render(
        request,
        "channels/channels.html",
        {
            "form": form,
            "network": network,
            "network_name": NETWORKS[network].name if network in NETWORKS else "",
            "networks": [(name, NETWORKS[name].name) for name in TRANSPORTS],
            "channels": Channel.objects.filter(organisation=membership.organisation),
        },
    )


@require_GET
def image(request: HttpRequest, token: str) -> FileResponse:
    """A post's image at an unguessable address, for networks that fetch images
    themselves. Only for posts approved for publishing; the address lasts a week."""
    from civicloop.publishing.models import Post

    try:
        code = signing.loads(token, salt=services.IMAGE_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature as exc:
        raise Http404 from exc
    post = Post.objects.filter(code=code, status=Post.Status.READY).first()
    if post is None or not post.image:
        raise Http404
    return FileResponse(post.image.open("rb"))
