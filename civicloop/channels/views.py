"""Connected accounts: connect Bluesky, see each channel's state, disconnect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from civicloop.accounts.access import org_view
from civicloop.accounts.forms import add_service_errors
from civicloop.accounts.roles import Capability
from civicloop.channels import services
from civicloop.channels.forms import BlueskyConnectForm
from civicloop.channels.models import Channel


@org_view(read=Capability.CONFIGURE, write=Capability.CONFIGURE)
def channels(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = BlueskyConnectForm(request.POST if request.POST.get("action") == "connect" else None)
    if request.method == "POST":
        if request.POST.get("action") == "disconnect":
            channel = Channel.objects.filter(
                organisation=membership.organisation, code=request.POST.get("channel", "")
            ).first()
            if channel is not None:
                services.channel_disconnect(actor_membership=membership, channel=channel)
                messages.success(request, _("Disconnected."))
            return redirect(request.path)
        if form.is_valid():
            try:
                services.channel_connect(
                    actor_membership=membership, network="bluesky", credentials=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(exc, form)
            except ImproperlyConfigured as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Bluesky account connected."))
                return redirect(request.path)
    return render(
        request,
        "channels/channels.html",
        {"form": form, "channels": Channel.objects.filter(organisation=membership.organisation)},
    )
