from __future__ import annotations

from django.urls import path

from civicloop.channels import views

app_name = "channels"
urlpatterns = [
    path("staff/<slug:org_slug>/channels/", views.channels, name="channels"),
    path("staff/<slug:org_slug>/channels/pages/", views.oauth_pages, name="oauth_pages"),
    path(
        "staff/<slug:org_slug>/channels/oauth/<str:network>/",
        views.oauth_start,
        name="oauth_start",
    ),
    path("channels/oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("media/posts/<str:token>/", views.image, name="image"),
]
