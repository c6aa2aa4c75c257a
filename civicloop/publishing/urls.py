from __future__ import annotations

from django.urls import path

from civicloop.publishing import views

app_name = "publishing"
urlpatterns = [
    path("staff/<slug:org_slug>/guidance/check/", views.check, name="check"),
    path("staff/<slug:org_slug>/guidance/settings/", views.settings, name="settings"),
]
