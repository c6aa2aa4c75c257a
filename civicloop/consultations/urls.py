from __future__ import annotations

from django.urls import path

from civicloop.consultations import api, views_public, views_staff

app_name = "consultations"
S = "staff/<slug:org_slug>/consultations/"
C = S + "<str:code>/"
P = "o/<slug:org_slug>/consultations/"
PC = P + "<str:code>/"

urlpatterns = [
    # Staff
    path(S, views_staff.staff_list, name="staff_list"),
    path(C, views_staff.overview, name="overview"),
    path(C + "edit/", views_staff.edit, name="edit"),
    path(C + "questions/", views_staff.builder, name="builder"),
    path(C + "questions/<int:pk>/", views_staff.question_edit, name="question_edit"),
    path(C + "sections/<int:pk>/", views_staff.page_edit, name="page_edit"),
    path(C + "preview/", views_staff.preview, name="preview"),
    path(C + "documents/", views_staff.documents, name="documents"),
    path(C + "invitations/", views_staff.invitations, name="invitations"),
    path(C + "responses/", views_staff.responses, name="responses"),
    path(C + "responses/new/", views_staff.staff_entry, name="entry"),
    path(C + "responses/<str:reference>/", views_staff.response_detail, name="response"),
    path(C + "import/", views_staff.import_upload, name="import"),
    path(C + "import/<str:batch>/", views_staff.import_map, name="import_map"),
    path(C + "export.csv", views_staff.export_csv, name="export_csv"),
    path(C + "export.xlsx", views_staff.export_xlsx, name="export_xlsx"),
    # Public
    path(P, views_public.hub, name="hub"),
    path(PC, views_public.detail, name="detail"),
    path(PC + "start/", views_public.start, name="start"),
    path(PC + "answer/<int:position>/", views_public.answer, name="answer"),
    path(PC + "check/", views_public.check, name="check"),
    path(PC + "done/", views_public.done, name="done"),
    path(PC + "resume/<str:token>/", views_public.resume, name="resume"),
    path(PC + "erase/", views_public.erase, name="erase"),
    path(PC + "documents/<str:doc_code>/", views_public.document, name="document"),
    # API
    path("api/v1/openapi.json", api.openapi, name="api_openapi"),
    path("api/v1/consultations", api.consultation_list, name="api_list"),
    path("api/v1/consultations/<str:code>", api.consultation_detail, name="api_detail"),
    path("api/v1/consultations/<str:code>/responses", api.responses, name="api_responses"),
]
