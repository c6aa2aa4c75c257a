from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from civicloop import views

admin.site.site_header = "civicloop platform administration"
admin.site.site_title = "civicloop admin"

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("language/<str:code>/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("civicloop.accounts.urls")),
    path("", include("civicloop.jobs.urls")),
    path("", include("civicloop.consultations.urls")),
    path("", include("civicloop.analysis.urls")),
    path("", include("civicloop.publishing.urls")),
    path("", include("civicloop.channels.urls")),
]

handler400 = "civicloop.views.bad_request"
handler403 = "civicloop.views.permission_denied"
handler404 = "civicloop.views.page_not_found"
