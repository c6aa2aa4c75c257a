from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _

from civicloop.accounts import selectors, services
from civicloop.accounts.access import org_view
from civicloop.accounts.forms import (
    AuditFilterForm,
    InviteForm,
    OrganisationSettingsForm,
    RegisterForm,
    RoleForm,
    SignInForm,
    add_service_errors,
)
from civicloop.accounts.models import User
from civicloop.accounts.roles import Capability, Role
from civicloop.jobs.models import Job
from civicloop.jobs.services import job_start
from civicloop.middleware import activate_organisation_timezone


class SignInView(auth_views.LoginView):
    template_name = "accounts/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        services.user_password_reset(user=form.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Choose an organisation; with only one, go straight to it."""
    memberships = list(selectors.memberships_for_user(user=request.user))  # type: ignore[arg-type]
    if len(memberships) == 1 and "choose" not in request.GET:
        return redirect("accounts:dashboard", org_slug=memberships[0].organisation.slug)
    return render(request, "accounts/home.html", {"memberships": memberships})


@org_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    context = {
        "member_count": organisation.memberships.count(),
        "pending_invitations": selectors.invitation_list_pending(organisation=organisation).count(),
        "recent_events": selectors.audit_events(organisation=organisation)[:5]
        if request.membership.can(Capability.AUDIT)  # type: ignore[attr-defined]
        else [],
    }
    return render(request, "accounts/dashboard.html", context)


@org_view()
def people(request: HttpRequest) -> HttpResponse:
    organisation = request.organisation  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/people.html",
        {
            "members": selectors.membership_list(organisation=organisation),
            "invitations": selectors.invitation_list_pending(organisation=organisation),
        },
    )


@org_view(read=Capability.MANAGE_PEOPLE, write=Capability.MANAGE_PEOPLE)
def invite(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    include_owner = membership.can(Capability.MANAGE_OWNERS)
    form = InviteForm(request.POST or None, include_owner=include_owner)
    if request.method == "POST" and form.is_valid():
        accept = request.build_absolute_uri(reverse("accounts:invitation_accept", args=["TOKEN"]))
        try:
            services.invitation_create(
                actor_membership=membership,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                accept_url_template=accept.replace("TOKEN", "{token}"),
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("accounts:people", org_slug=membership.organisation.slug)
    return render(request, "accounts/invite.html", {"form": form})


@org_view(read=Capability.MANAGE_PEOPLE, write=Capability.MANAGE_PEOPLE)
def member(request: HttpRequest, code: str) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    target = selectors.membership_get(organisation=membership.organisation, code=code)
    include_owner = membership.can(Capability.MANAGE_OWNERS)
    form = RoleForm(
        request.POST or None, include_owner=include_owner, initial={"role": target.role}
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                services.membership_remove(actor_membership=membership, membership=target)
                messages.success(request, _("%(name)s was removed.") % {"name": target.user})
                return redirect("accounts:people", org_slug=membership.organisation.slug)
            if form.is_valid():
                services.membership_change_role(
                    actor_membership=membership, membership=target, role=form.cleaned_data["role"]
                )
                messages.success(request, _("Role changed."))
                return redirect("accounts:people", org_slug=membership.organisation.slug)
        except ValidationError as exc:
            add_service_errors(exc, form)
    editable = include_owner or target.role != Role.OWNER
    return render(
        request, "accounts/member.html", {"target": target, "form": form, "editable": editable}
    )


@org_view(read=Capability.MANAGE_PEOPLE, write=Capability.MANAGE_PEOPLE)
def invitation_revoke(request: HttpRequest, code: str) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    invitation = selectors.invitation_get(organisation=membership.organisation, code=code)
    if request.method != "POST":
        return redirect("accounts:people", org_slug=membership.organisation.slug)
    services.invitation_revoke(actor_membership=membership, invitation=invitation)
    messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("accounts:people", org_slug=membership.organisation.slug)


@org_view(read=Capability.CONFIGURE, write=Capability.CONFIGURE)
def organisation_settings(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    organisation = membership.organisation
    form = OrganisationSettingsForm(
        request.POST or None, request.FILES or None, instance=organisation
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if fields.get("logo") is False:  # "clear" ticked
            fields["logo"] = ""
        try:
            services.organisation_update(
                actor_membership=membership, organisation=organisation, **fields
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("accounts:settings", org_slug=organisation.slug)
    organisation.refresh_from_db()
    return render(request, "accounts/settings.html", {"form": form})


@org_view(read=Capability.AUDIT, write=Capability.AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    organisation = membership.organisation
    actions = selectors.audit_actions(organisation=organisation)
    data = request.POST if request.method == "POST" else request.GET
    form = AuditFilterForm(data or None, actions=actions)
    filters: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        filters = {k: str(v) for k, v in form.cleaned_data.items() if v}
    if request.method == "POST" and not form.errors:
        job = job_start(actor_membership=membership, kind=Job.Kind.AUDIT_EXPORT, params=filters)
        return redirect("jobs:detail", org_slug=organisation.slug, code=job.code)
    events = selectors.audit_events(
        organisation=organisation,
        action=filters.get("action", ""),
        actor_query=filters.get("actor", ""),
        since=form.cleaned_data.get("since") if form.is_bound and not form.errors else None,
        until=form.cleaned_data.get("until") if form.is_bound and not form.errors else None,
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: signed in as the invited address, or create the account."""
    invitation = services.invitation_get_by_token(token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    user = request.user
    form = RegisterForm(request.POST or None)
    error = ""
    if request.method == "POST":
        try:
            if user.is_authenticated:
                services.invitation_accept(token=token, user=user)
            elif form.is_valid():
                user = services.user_register_from_invitation(
                    token=token,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                raise ValidationError("")
        except ValidationError as exc:
            error = " ".join(m for m in exc.messages if m)
        else:
            messages.success(
                request, _("Welcome to %(org)s.") % {"org": invitation.organisation.name}
            )
            return redirect("accounts:dashboard", org_slug=invitation.organisation.slug)
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form, "error": error, "has_account": has_account},
    )


def public_organisation(request: HttpRequest, org_slug: str) -> HttpResponse:
    from civicloop.consultations.selectors import consultation_list_public

    organisation = selectors.organisation_get_public(slug=org_slug)
    activate_organisation_timezone(organisation)
    open_consultations, _closed = consultation_list_public(organisation=organisation)
    return render(
        request,
        "public/organisation.html",
        {"public_org": organisation, "open_consultations": open_consultations},
    )


def public_logo(request: HttpRequest, org_slug: str) -> FileResponse:
    organisation = selectors.organisation_get_public(slug=org_slug)
    if not organisation.logo:
        raise Http404
    try:
        handle = organisation.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle)
    response["Cache-Control"] = "public, max-age=300"
    return response
