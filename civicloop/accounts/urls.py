from __future__ import annotations

from django.urls import path

from civicloop.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="signin"),
    path("sign-out/", views.SignOutView.as_view(), name="signout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("staff/", views.home, name="home"),
    path("staff/<slug:org_slug>/", views.dashboard, name="dashboard"),
    path("staff/<slug:org_slug>/people/", views.people, name="people"),
    path("staff/<slug:org_slug>/people/invite/", views.invite, name="invite"),
    path("staff/<slug:org_slug>/people/<str:code>/", views.member, name="member"),
    path(
        "staff/<slug:org_slug>/invitations/<str:code>/withdraw/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("staff/<slug:org_slug>/settings/", views.organisation_settings, name="settings"),
    path("staff/<slug:org_slug>/audit/", views.audit_log, name="audit"),
    path("o/<slug:org_slug>/", views.public_organisation, name="public_organisation"),
    path("o/<slug:org_slug>/logo/", views.public_logo, name="public_logo"),
]
