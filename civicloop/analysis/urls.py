from __future__ import annotations

from django.urls import path

from civicloop.analysis import api, views

app_name = "analysis"
prefix = "staff/<slug:org_slug>/consultations/<str:code>/analysis/"
urlpatterns = [
    path(prefix, views.index, name="index"),
    path(prefix + "<slug:key>/", views.question, name="question"),
    path(prefix + "<slug:key>/themes.csv", views.themes_csv, name="themes_csv"),
    path(prefix + "<slug:key>/history/", views.history, name="history"),
    path(prefix + "<slug:key>/themes/<str:theme>/", views.theme, name="theme"),
    path(prefix + "<slug:key>/campaigns/<int:number>/", views.campaign, name="campaign"),
    path("api/v1/consultations/<str:code>/themes", api.themes, name="api_themes"),
]
