"""Import (CSV, XLSX) and export (CSV, XLSX) of responses."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from civicloop.accounts.models import AuditEvent
from civicloop.accounts.roles import Role
from civicloop.consultations import services
from civicloop.consultations.models import Response
from tests.conftest import client_for

GOOD_CSV = (
    "Ref,Repairs should be done within 7 days,why,Postcode,Name\n"
    "1,Agree,Too slow now,sw1a 1aa,Ann\n"
    '2,strongly_disagree,=HYPERLINK("http://evil"),,Bob\n'
    ",,,,\n"
    "3,Disagree,Leaks,,\n"
)


def url(name, consultation, *args):
    return reverse(f"consultations:{name}", args=["alpha", consultation.code, *args])


def upload(client, consultation, name: str, data: bytes):
    return client.post(url("import", consultation), {"file": SimpleUploadedFile(name, data)})


def columns(page_text: str) -> int:
    return page_text.count('<select class="govuk-select" id="col_')


def test_csv_import_maps_previews_and_imports_once(consultation, alice_client):
    r = upload(alice_client, consultation, "paper.csv", GOOD_CSV.encode())
    assert r.status_code == 302
    mapping_page = alice_client.get(r["Location"])
    assert columns(mapping_page.text) == 5
    assert "1 blank rows will be ignored" in mapping_page.text
    # Guessed: question text → agree, "why" → why, Postcode → postcode, Name → name; Ref ignored.
    form = {"col_0": "", "col_1": "agree", "col_2": "why", "col_3": "postcode", "col_4": "__name"}
    preview = alice_client.post(r["Location"], {**form, "action": "check"})
    assert "3 rows are ready; 0 rows have errors" in preview.text
    done = alice_client.post(r["Location"], {**form, "action": "import_all"})
    assert done.status_code == 302
    responses = Response.objects.order_by("import_row")
    assert [x.import_row for x in responses] == [2, 3, 5]
    assert responses[0].answers == {"agree": "agree", "why": "Too slow now", "postcode": "SW1A 1AA"}
    assert responses[0].respondent_name == "Ann" and responses[0].channel == "import"
    assert AuditEvent.objects.filter(action="responses.imported").count() == 1
    # The same file again adds nothing and says why.
    again = upload(alice_client, consultation, "paper-copy.csv", GOOD_CSV.encode())
    assert again.status_code == 200
    assert "already imported" in again.text
    assert Response.objects.count() == 3


def test_rows_with_errors_block_import_unless_valid_only(consultation, alice_client):
    data = b"agree,postcode\nagree,SW1A 1AA\nmaybe,SW1A 1AA\n,XX\n"
    r = upload(alice_client, consultation, "bad.csv", data)
    form = {"col_0": "agree", "col_1": "postcode"}
    preview = alice_client.post(r["Location"], {**form, "action": "check"})
    assert "1 rows are ready; 2 rows have errors" in preview.text
    assert "maybe is not one of the options" in preview.text
    assert "An answer is required" in preview.text
    refused = alice_client.post(r["Location"], {**form, "action": "import_all"})
    assert "nothing was imported" in refused.text
    assert Response.objects.count() == 0
    errors = alice_client.post(r["Location"], {**form, "action": "errors"})
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["row", "errors"] and [r[0] for r in rows[1:]] == ["3", "4"]
    alice_client.post(r["Location"], {**form, "action": "import_valid"})
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("spaces.csv", b"  \n\n ", "The file is empty"),
        ("headers.csv", b"agree,why\n", "no rows of answers"),
        ("latin1.csv", "agree,why\nagree,caf\xe9 \u2019ok\u2019\n".encode("cp1252"), None),
        ("binary.csv", bytes(range(256)) * 4, "could not be read"),
        ("photo.png", b"\x89PNG....", "Upload a CSV or XLSX"),
        ("fake.xlsx", b"not a zip", "could not be opened"),
        ("dupe.csv", b"agree,agree\nagree,agree\n", "appears twice"),
    ],
)
def test_broken_files_get_clear_messages(consultation, alice_client, name, data, message):
    r = upload(alice_client, consultation, name, data)
    if message is None:  # cp1252 is read, not refused
        assert r.status_code == 302
        page = alice_client.post(
            r["Location"], {"col_0": "agree", "col_1": "why", "action": "import_all"}
        )
        assert page.status_code == 302
        assert Response.objects.get().answers["why"] == "café \u2019ok\u2019"
    else:
        assert r.status_code == 200
        assert message in r.text
        assert Response.objects.count() == 0


def test_xlsx_with_formulas_merged_cells_and_blank_rows(consultation, alice_client):
    book = Workbook()
    sheet = book.active
    sheet.append(["agree", "why"])
    sheet.append(["agree", "=1+1"])
    sheet.append([None, None])
    sheet.append(["disagree", "Merged note"])
    sheet.merge_cells("B4:C4")
    out = io.BytesIO()
    book.save(out)
    r = upload(alice_client, consultation, "survey.xlsx", out.getvalue())
    assert r.status_code == 302
    alice_client.post(r["Location"], {"col_0": "agree", "col_1": "why", "action": "import_all"})
    answers = [x.answers for x in Response.objects.order_by("import_row")]
    # A formula never runs: openpyxl has no cached value for it, so the answer is empty.
    assert answers == [{"agree": "agree"}, {"agree": "disagree", "why": "Merged note"}]


def test_unknown_mapping_target_is_refused(consultation, alice_client):
    r = upload(alice_client, consultation, "x.csv", b"agree\nagree\n")
    page = alice_client.post(r["Location"], {"col_0": "no_such_key", "action": "check"})
    assert "Unknown question key" in page.text


def _seed(consultation):
    services.response_submit(
        consultation=consultation,
        answers={
            "agree": "agree",
            "why": "=cmd|' /C calc'!A0",
            "priorities": ["speed", "quality"],
            "contact": {"answer": "yes", "why": "+44 call"},
        },
        channel="web",
        idempotency_key="a",
    )
    services.response_submit(
        consultation=consultation,
        answers={"agree": "disagree", "why": "Plain café"},
        channel="paper",
        idempotency_key="b",
    )


def test_csv_export_has_bom_one_column_per_key_and_no_formulas(consultation, alice_client):
    _seed(consultation)
    r = alice_client.get(url("export_csv", consultation))
    body = b"".join(r.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert {
        "reference",
        "agree",
        "why",
        "priorities",
        "contact",
        "contact__why",
        "postcode",
        "age",
    } <= set(rows[0])
    first = rows[0]
    assert first["why"] == "'=cmd|' /C calc'!A0"
    assert first["contact__why"] == "'+44 call"
    assert first["priorities"] == "speed;quality"
    assert rows[1]["why"] == "Plain café"


def test_xlsx_export_has_a_data_dictionary(consultation, alice_client):
    _seed(consultation)
    r = alice_client.get(url("export_xlsx", consultation))
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Responses", "Data dictionary"]
    rows = list(book["Responses"].values)
    assert rows[0][:3] == ("reference", "submitted_at_utc", "channel")
    assert "'=cmd|' /C calc'!A0" in rows[1]
    dictionary = {row[0]: row for row in book["Data dictionary"].values}
    assert dictionary["agree"][1] == "Repairs should be done within 7 days"
    assert "strongly_agree = Strongly agree" in dictionary["agree"][3]


@pytest.mark.parametrize("role", [Role.OFFICER, Role.VIEWER])
def test_only_analysts_managers_and_owners_export(consultation, member_of, role):
    client = client_for(member_of(role).user)
    assert client.get(url("export_csv", consultation)).status_code == 403
