from __future__ import annotations

from django.urls import path

from civicloop.publishing import views

app_name = "publishing"
urlpatterns = [
    path("staff/<slug:org_slug>/guidance/check/", views.check, name="check"),
    path("staff/<slug:org_slug>/guidance/settings/", views.settings, name="settings"),
    path("staff/<slug:org_slug>/posts/", views.posts, name="posts"),
    path("staff/<slug:org_slug>/posts/new/", views.compose, name="compose"),
    path("staff/<slug:org_slug>/posts/check/", views.compose_check, name="compose_check"),
    path("staff/<slug:org_slug>/posts/review/", views.review_queue, name="review_queue"),
    path("staff/<slug:org_slug>/posts/<str:code>/", views.post_detail, name="post"),
    path("staff/<slug:org_slug>/posts/<str:code>/edit/", views.compose, name="edit"),
]
