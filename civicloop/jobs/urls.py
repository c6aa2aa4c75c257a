from __future__ import annotations

from django.urls import path

from civicloop.jobs import views

app_name = "jobs"
urlpatterns = [
    path("staff/<slug:org_slug>/jobs/<str:code>/", views.detail, name="detail"),
    path("staff/<slug:org_slug>/jobs/<str:code>/download/", views.download, name="download"),
]
