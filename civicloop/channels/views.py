"""Connected accounts: connect any network, see each channel's state, reconnect,
disconnect. Also the signed public address of a post's image (for Instagram)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civicloop.accounts.access import org_view
from civicloop.accounts.forms import add_service_errors
from civicloop.accounts.roles import Capability
from civicloop.accounts.selectors import membership_get_for_user
from civicloop.channels import base, oauth, safety, secrets, services
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
            "sign_in": network in SIGN_IN,
        },
    )


SIGN_IN = ("x", "linkedin", "mastodon", "facebook", "instagram")
META = ("facebook", "instagram")


def _callback_uri(request: HttpRequest) -> str:
    from django.conf import settings

    path = reverse("channels:oauth_callback")
    root = getattr(settings, "CIVICLOOP_PUBLIC_URL", "")
    return root + path if root else request.build_absolute_uri(path)


@org_view(read=Capability.CONFIGURE, write=Capability.CONFIGURE)
def oauth_start(request: HttpRequest, network: str) -> HttpResponse:
    """Send a manager to the network to sign in (POST; Mastodon needs its server first)."""
    membership = request.membership  # type: ignore[attr-defined]
    transport_class = TRANSPORTS.get(network)
    back = HttpResponseRedirect(
        reverse("channels:channels", args=[membership.organisation.slug])
        + f"?network={network}#connect"
    )
    if transport_class is None or network not in SIGN_IN:
        raise Http404
    extra = {}
    if network == "mastodon":
        server = request.POST.get("server", "").strip().rstrip("/")
        if not server.startswith("https://"):
            messages.error(request, _("Enter your Mastodon server's address, starting https://"))
            return back
        try:
            safety.check_server(server)
        except base.DeliveryError as exc:
            messages.error(request, str(exc))
            return back
        extra["server"] = server
    if network == "linkedin":
        organisation_id = request.POST.get("organisation_id", "").strip()
        if not organisation_id.isdigit():
            messages.error(request, _("Enter your LinkedIn page's organisation ID (a number)."))
            return back
        extra["organisation_id"] = organisation_id
    redirect_uri = _callback_uri(request)
    state = oauth.secrets.token_urlsafe(24)
    if network in META:
        try:
            url = oauth.meta_authorize_url(state=state, redirect_uri=redirect_uri)
        except base.DeliveryError as exc:
            messages.error(request, str(exc))
            return back
        request.session[oauth.SESSION_KEY] = {
            "state": state,
            "network": network,
            "org": membership.organisation.slug,
        }
        return HttpResponseRedirect(url)
    try:
        app = oauth.app_for(transport_class(), extra, redirect_uri)
    except base.DeliveryError as exc:
        messages.error(request, str(exc))
        return back
    verifier, challenge = oauth.pkce()
    request.session[oauth.SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "network": network,
        "org": membership.organisation.slug,
        "extra": extra,
        "app": app.__dict__,
    }
    return HttpResponseRedirect(
        oauth.authorize_url(app, state=state, challenge=challenge, redirect_uri=redirect_uri)
    )


@org_view(read=Capability.CONFIGURE, write=Capability.CONFIGURE)
def oauth_pages(request: HttpRequest) -> HttpResponse:
    """After Facebook Login: choose which Page (or its Instagram account) to connect."""
    membership = request.membership  # type: ignore[attr-defined]
    pending = request.session.get(oauth.PAGES_KEY)
    if not pending or pending["org"] != membership.organisation.slug:
        messages.error(request, _("That sign-in has expired. Sign in with Facebook again."))
        return redirect("channels:channels", org_slug=membership.organisation.slug)
    network = pending["network"]
    pages = secrets.unseal(pending["pages"])["pages"]
    error = ""
    if request.method == "POST":
        chosen = next((p for p in pages if p["page_id"] == request.POST.get("page")), None)
        if chosen is None:
            error = _("Choose an account.")
        else:
            credentials = (
                {"page_id": chosen["page_id"], "access_token": chosen["access_token"]}
                if network == "facebook"
                else {"ig_user_id": chosen["ig_user_id"], "access_token": chosen["access_token"]}
            )
            try:
                services.channel_connect(
                    actor_membership=membership, network=network, credentials=credentials
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                request.session.pop(oauth.PAGES_KEY, None)
                messages.success(
                    request,
                    _("%(network)s account connected.") % {"network": NETWORKS[network].name},
                )
                return redirect("channels:channels", org_slug=membership.organisation.slug)
    return render(
        request,
        "channels/pages.html",
        {
            "network_name": NETWORKS[network].name,
            "choices": [
                (
                    p["page_id"],
                    p["name"] if network == "facebook" else f"@{p['ig_username']} ({p['name']})",
                )
                for p in pages
            ],
            "error": error,
        },
    )


@login_required
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """The network sends the person back here with a code; only the session that
    started the sign-in can finish it, and only while its role may connect channels."""
    pending = request.session.pop(oauth.SESSION_KEY, None)
    if not pending or request.GET.get("state", "") != pending.get("state"):
        messages.error(request, _("That sign-in was not started here, or has expired. Try again."))
        return redirect("accounts:home")
    membership = membership_get_for_user(user=request.user, org_slug=pending["org"])  # type: ignore[arg-type]
    if not membership.can(Capability.CONFIGURE):
        raise Http404
    network = pending["network"]
    page = redirect("channels:channels", org_slug=pending["org"])
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(request, _("Sign-in was cancelled; nothing was connected."))
        return page
    transport = TRANSPORTS[network]()
    if network in META:
        try:
            pages = oauth.meta_pages(
                transport, code=request.GET["code"], redirect_uri=_callback_uri(request)
            )
        except base.DeliveryError as exc:
            messages.error(request, str(exc))
            return page
        if network == "instagram":
            pages = [p for p in pages if p["ig_user_id"]]
        if not pages:
            messages.error(
                request,
                _("That sign-in manages no Facebook Page")
                if network == "facebook"
                else _("None of that sign-in's Pages has an Instagram professional account linked"),
            )
            return page
        request.session[oauth.PAGES_KEY] = {
            "org": pending["org"],
            "network": network,
            "pages": secrets.seal({"pages": pages}),
        }
        return redirect("channels:oauth_pages", org_slug=pending["org"])
    app = oauth.App(**pending["app"])
    try:
        tokens = oauth.exchange(
            transport,
            app,
            code=request.GET["code"],
            verifier=pending["verifier"],
            redirect_uri=_callback_uri(request),
        )
        credentials = {**pending["extra"], **tokens}
        services.channel_connect(
            actor_membership=membership, network=network, credentials=credentials
        )
    except (base.DeliveryError, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return page
    messages.success(request, _("%(network)s account connected.") % {"network": transport.label})
    return page


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
