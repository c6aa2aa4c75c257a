from __future__ import annotations

from django.urls import path

from civicloop.channels import views

app_name = "channels"
urlpatterns = [
    path("staff/<slug:org_slug>/channels/", views.channels, name="channels"),
    path("media/posts/<str:token>/", views.image, name="image"),
]
