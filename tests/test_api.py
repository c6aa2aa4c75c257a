from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.urls import resolve

from civicloop.consultations import services
from civicloop.consultations.models import Response


@pytest.fixture
def token(alpha):
    return services.api_token_create(organisation=alpha, name="survey tool")


def call(client, method, path, token=None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(
        path, data=data, content_type="application/json", headers=headers
    )


def test_token_required_and_scoped(consultation, beta, client, token):
    assert call(client, "get", "/api/v1/consultations").status_code == 401
    assert call(client, "get", "/api/v1/consultations", "cl_wrong").status_code == 401
    listing = call(client, "get", "/api/v1/consultations", token).json()
    assert [c["code"] for c in listing["results"]] == [consultation.code]
    other = services.api_token_create(organisation=beta, name="beta")
    assert (
        call(client, "get", f"/api/v1/consultations/{consultation.code}", other).status_code == 404
    )
    assert (
        call(
            client,
            "post",
            f"/api/v1/consultations/{consultation.code}/responses",
            other,
            {"answers": {"agree": "agree"}},
        ).status_code
        == 404
    )


def test_detail_lists_questions_with_keys_and_types(consultation, client, token):
    body = call(client, "get", f"/api/v1/consultations/{consultation.code}", token).json()
    keys = {q["key"]: q for q in body["questions"]}
    assert keys["agree"]["type"] == "agree_scale" and keys["agree"]["required"] is True
    assert {"value": "strongly_agree", "label": "Strongly agree"} in keys["agree"]["options"]
    assert keys["age"]["required"] is False  # demographics are always optional


def test_post_one_response_idempotently(consultation, client, token):
    path = f"/api/v1/consultations/{consultation.code}/responses"
    body = {"answers": {"agree": "Agree", "priorities": ["speed"]}, "idempotency_key": "ext-1"}
    first = call(client, "post", path, token, body)
    assert first.status_code == 201
    again = call(client, "post", path, token, body)
    assert again.status_code == 200 and again.json()["reference"] == first.json()["reference"]
    assert Response.objects.get().answers == {"agree": "agree", "priorities": ["speed"]}


def test_validation_errors_name_each_field(consultation, client, token):
    path = f"/api/v1/consultations/{consultation.code}/responses"
    r = call(
        client, "post", path, token, {"answers": {"agree": "meh", "nope": 1, "why": "x" * 501}}
    )
    assert r.status_code == 400
    fields = r.json()["fields"]
    assert set(fields) == {"agree", "nope", "why"}
    assert "no question with this key" in fields["nope"][0]
    assert Response.objects.count() == 0
    assert call(client, "post", path, token, None).status_code == 400
    bad = client.post(
        path,
        data=b"{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]


def test_batch_reports_each_item(consultation, client, token):
    path = f"/api/v1/consultations/{consultation.code}/responses"
    batch = [
        {"answers": {"agree": "agree"}, "idempotency_key": "b1"},
        {"answers": {"agree": "bogus"}, "idempotency_key": "b2"},
        {"answers": {"agree": "disagree"}, "idempotency_key": "b1"},  # replay of b1
    ]
    r = call(client, "post", path, token, batch)
    assert r.status_code == 207
    body = r.json()
    assert [x["created"] for x in body["results"]] == [True, False]
    assert list(body["errors"]) == ["1"]
    assert Response.objects.count() == 1


def test_closed_consultation_is_409(consultation, client, token):
    consultation.status = "closed"
    consultation.save()
    r = call(
        client,
        "post",
        f"/api/v1/consultations/{consultation.code}/responses",
        token,
        {"answers": {"agree": "agree"}},
    )
    assert r.status_code == 409


def test_list_responses_paginated(consultation, client, token):
    for n in range(3):
        services.response_submit(
            consultation=consultation,
            answers={"agree": "agree"},
            channel="web",
            idempotency_key=f"k{n}",
        )
    body = call(client, "get", f"/api/v1/consultations/{consultation.code}/responses", token).json()
    assert body["count"] == 3 and len(body["results"]) == 3 and body["pages"] == 1
    assert (
        call(
            client, "get", f"/api/v1/consultations/{consultation.code}/responses?page=9", token
        ).status_code
        == 404
    )


def test_openapi_schema_describes_the_paths(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/consultations",
        "/api/v1/consultations/{code}",
        "/api/v1/consultations/{code}/responses",
        "/api/v1/consultations/{code}/themes",
    }
    for path in schema["paths"]:  # every documented path is routed
        assert resolve(path.replace("{code}", "abc")).url_name.startswith("api_")
    assert client.get("/api/v1/consultations/x/responses", headers={}).status_code == 401


def test_token_cli_prints_a_working_token(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "t" * 50,
        "ALLOWED_HOSTS": "x",
        "CIVICLOOP_DATA_DIR": str(tmp_path),
    }

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "civicloop.cli", *a],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("demo", "--no-serve").returncode == 0
    missing = run("token", "create", "--organisation", "nowhere", "--name", "x")
    assert missing.returncode == 2 and "no organisation" in missing.stderr
    made = run("token", "create", "--organisation", "ashworth", "--name", "survey")
    assert made.returncode == 0
    token = made.stdout.strip()
    assert token.startswith("cl_") and "shown only once" in made.stderr
    check = f"import django; django.setup(); from civicloop.consultations.services import api_token_authenticate as a; print(a('{token}').organisation.slug)"
    out = subprocess.run(
        [sys.executable, "-c", check],
        env={**env, "DJANGO_SETTINGS_MODULE": "civicloop.settings"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "ashworth", out.stderr
