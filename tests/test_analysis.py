"""Analysis in the platform: a background run, the sync layer, analyst decisions that
survive re-runs, and theme results in exports and the API."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from civicloop.accounts.models import AuditEvent
from civicloop.analysis import selectors, services
from civicloop.analysis.models import AnalysisRun, Decision, MachineResult, Theme
from civicloop.consultations.models import Response
from civicloop.jobs.models import Job
from tests.conftest import client_for

REPAIRS = [
    "The boiler repair took three weeks and the plumber never called back.",
    "Repairs are slow, my boiler was broken for weeks before the plumber came.",
    "I waited a month for the plumber to repair the leaking boiler.",
    "Boiler repairs need to be quicker, the plumber missed two appointments.",
    "Our boiler broke in January and the plumber took 20 days to repair it.",
    "Plumber appointments for boiler repair are always cancelled.",
]
DAMP = [
    "Damp and mould in the bedroom have made my child ill.",
    "There is black mould on the walls and damp in every room.",
    "The damp patch and mould in the bathroom keep coming back.",
    "Mould from the damp walls is ruining our clothes and health.",
    "Nobody treats the damp, the mould returns every winter.",
    "Damp and mould complaints are ignored for months.",
]
CONTACT = [
    "Nobody answers the phone line when I call about repairs updates.",
    "The phone line kept me on hold for an hour with no updates.",
    "Please text updates instead of making us call the phone line.",
    "I called the phone line five times and got no updates.",
    "Updates by phone never come, the line is always engaged.",
    "Give us a phone line that answers and sends updates.",
]
TEMPLATE = "I support the Tenants Union demand: fix every repair within 7 days, no excuses."


def add_responses(consultation, texts, agree="disagree", channel="web", age="35_44"):
    made = []
    for text in texts:
        made.append(
            Response.objects.create(
                consultation=consultation,
                idempotency_key=uuid.uuid4().hex,
                channel=channel,
                answers={"agree": agree, "why": text, "age": age},
            )
        )
    return made


@pytest.fixture
def answered(consultation):
    add_responses(consultation, REPAIRS, "disagree")
    add_responses(consultation, DAMP, "strongly_disagree", channel="paper", age="65_74")
    add_responses(consultation, CONTACT, "agree")
    add_responses(consultation, [TEMPLATE] * 5, "strongly_agree", channel="email")
    add_responses(consultation, ["", "   "], "agree")
    return consultation


@pytest.fixture
def analyst(member_of):
    return member_of("analyst")


def analyse(client, consultation, capture, **data):
    url = f"/staff/alpha/consultations/{consultation.code}/analysis/why/"
    with capture(execute=True):
        page = client.post(url, {"stance_key": "agree", "themes": "3", **data})
    assert page.status_code == 302, page.content.decode()[:2000]
    return AnalysisRun.objects.filter(consultation=consultation, question_key="why").first()


def test_a_run_is_a_job_with_progress_and_writes_everything(
    answered, analyst, django_capture_on_commit_callbacks
):
    client = client_for(analyst.user)
    run = analyse(client, answered, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.is_current
    job = Job.objects.get(pk=run.job_id)
    assert job.kind == "analysis" and job.status == "succeeded" and job.percent == 100
    responses = answered.responses.count()
    assert run.responses_analysed == responses == MachineResult.objects.filter(run=run).count()
    view = selectors.analysis_view(answered, "why")
    assert view is not None
    assert sum(t.count for t in view.themes) + view.other + view.unanswered == responses
    assert view.unanswered == 2  # the two empty answers, kept and counted apart
    # Positions from the paired agree question: damp is all oppose, contact all support.
    damp = next(t for t in view.themes if "damp" in t.label or "mould" in t.label)
    assert damp.positions["oppose"] == damp.count >= 5
    assert damp.breakdowns["channel"].get("paper", 0) >= 5
    assert damp.breakdowns["age"].get("65_74", 0) >= 5
    assert len(view.campaigns) == 1 and len(view.campaigns[0].members) == 5
    assert AuditEvent.objects.filter(action="analysis.completed").exists()
    page = client.get(f"/staff/alpha/consultations/{answered.code}/analysis/why/")
    body = page.content.decode()
    assert page.status_code == 200 and damp.label in body and "Organised campaigns" in body
    assert "Tenants Union" in body
    assert "Disagree" in body and "No answer to this question" in body
    page = client.get(
        f"/staff/alpha/consultations/{answered.code}/analysis/why/themes/{damp.code}/"
    )
    body = page.content.decode()
    assert "65 to 74" in body and "Paper (entered by staff)" in body  # codes in people's words


def test_analysts_decisions_apply_and_survive_a_re_run(
    answered, analyst, django_capture_on_commit_callbacks
):
    client = client_for(analyst.user)
    analyse(client, answered, django_capture_on_commit_callbacks)
    view = selectors.analysis_view(answered, "why")
    damp = next(t for t in view.themes if "damp" in t.label or "mould" in t.label)
    other = next(t for t in view.themes if t.code != damp.code)
    base = f"/staff/alpha/consultations/{answered.code}/analysis/why/themes/"
    # Rename.
    page = client.post(
        base + damp.code + "/",
        {
            "action": "rename",
            "rename-label": "Damp and mould",
            "rename-description": "Homes with damp.",
        },
    )
    assert page.status_code == 302
    # Move one response out, set a position on another.
    members = [r for r in view.responses.values() if r.themes and r.themes[0] == damp.theme.pk]
    moved, confirmed = members[0].response_id, members[1].response_id
    assert (
        client.post(
            base + damp.code + "/",
            {"action": "move", "move-theme": other.code, "responses": [moved]},
        ).status_code
        == 302
    )
    assert (
        client.post(
            base + damp.code + "/",
            {"action": "position", "position-position": "support", "responses": [confirmed]},
        ).status_code
        == 302
    )
    # Split two more into a new theme.
    split = [members[2].response_id, members[3].response_id]
    page = client.post(
        base + damp.code + "/",
        {"action": "split", "split-new_label": "Mould and health", "responses": split},
    )
    assert page.status_code == 302
    new_theme = Theme.objects.get(origin=Theme.Origin.ANALYST)
    # Reject a campaign member.
    campaign = view.campaigns[0]
    url = f"/staff/alpha/consultations/{answered.code}/analysis/why/campaigns/{campaign.campaign.number}/"
    assert (
        client.post(url, {"action": "reject", "responses": [campaign.members[0]]}).status_code
        == 302
    )

    def check(view):
        damp_now = view.by_code[damp.code]
        assert damp_now.label == "Damp and mould" and damp_now.renamed
        assert view.responses[moved].themes[0] == other.theme.pk
        assert view.responses[confirmed].position == "support"
        assert view.responses[confirmed].position_confirmed
        assert {view.responses[pk].themes[0] for pk in split} == {new_theme.pk}
        assert view.by_code[new_theme.code].label == "Mould and health"
        assert view.responses[campaign.members[0]].campaign is None
        assert len(view.campaigns[0].members) == 4 and len(view.campaigns[0].rejected) == 1

    check(selectors.analysis_view(answered, "why"))
    # New responses arrive; a re-run keeps every decision and the themes' identities.
    add_responses(answered, DAMP[:2], "disagree")
    second = analyse(client, answered, django_capture_on_commit_callbacks)
    assert second.is_current and AnalysisRun.objects.filter(is_current=True).count() == 1
    check(selectors.analysis_view(answered, "why"))
    # Both runs and every decision are kept, and the history page lists them.
    assert AnalysisRun.objects.filter(question_key="why").count() == 2
    assert (
        Decision.objects.count() == 1 + 1 + 1 + 1 + 2 + 1
    )  # rename, move, position, split(+2 moves), campaign
    page = client.get(f"/staff/alpha/consultations/{answered.code}/analysis/why/history/")
    assert "Mould and health" in page.content.decode()


def test_merge_sends_counts_and_the_old_page_to_the_target(
    answered, analyst, django_capture_on_commit_callbacks
):
    client = client_for(analyst.user)
    analyse(client, answered, django_capture_on_commit_callbacks)
    view = selectors.analysis_view(answered, "why")
    first, second = view.themes[0], view.themes[1]
    total = first.count + second.count
    base = f"/staff/alpha/consultations/{answered.code}/analysis/why/themes/"
    page = client.post(base + second.code + "/", {"action": "merge", "merge-theme": first.code})
    assert page.status_code == 302 and page["Location"].endswith(f"/themes/{first.code}/")
    after = selectors.analysis_view(answered, "why")
    assert second.code not in after.by_code
    assert after.by_code[first.code].count == total
    assert second.label in after.by_code[first.code].merged
    assert client.get(base + second.code + "/")["Location"].endswith(f"/themes/{first.code}/")
    # Merging back the other way would make a loop: refused with a message.
    page = client.post(base + first.code + "/", {"action": "merge", "merge-theme": second.code})
    assert page.status_code == 200


def test_bad_decisions_get_clear_errors_and_change_nothing(
    answered, analyst, beta, charlie, django_capture_on_commit_callbacks
):
    client = client_for(analyst.user)
    analyse(client, answered, django_capture_on_commit_callbacks)
    view = selectors.analysis_view(answered, "why")
    theme = view.themes[0]
    url = f"/staff/alpha/consultations/{answered.code}/analysis/why/themes/{theme.code}/"
    before = Decision.objects.count()
    page = client.post(url, {"action": "split", "split-new_label": "Nothing chosen"})
    assert page.status_code == 200 and "Select the responses" in page.content.decode()
    page = client.post(url, {"action": "rename", "rename-label": ""})
    assert page.status_code == 200 and "There is a problem" in page.content.decode()
    # A response from another organisation cannot be moved in.
    from tests.conftest import build_consultation

    theirs = build_consultation(beta, charlie)
    (foreign,) = add_responses(theirs, ["Not yours"])
    page = client.post(
        url,
        {"action": "move", "move-theme": view.themes[1].code, "responses": [foreign.pk]},
    )
    assert page.status_code == 200 and "not part of this consultation" in page.content.decode()
    assert Decision.objects.count() == before
    with pytest.raises(services.ValidationError):
        services.analysis_request(
            actor_membership=analyst, consultation=answered, question_key="agree"
        )
    with pytest.raises(services.ValidationError):
        services.analysis_request(
            actor_membership=analyst, consultation=answered, question_key="why", themes=500
        )


def test_roles_read_and_decide_as_the_table_says(
    answered, analyst, member_of, bob, django_capture_on_commit_callbacks
):
    analyse(client_for(analyst.user), answered, django_capture_on_commit_callbacks)
    view = selectors.analysis_view(answered, "why")
    theme_url = (
        f"/staff/alpha/consultations/{answered.code}/analysis/why/themes/{view.themes[0].code}/"
    )
    viewer = client_for(member_of("viewer").user)
    assert (
        viewer.get(f"/staff/alpha/consultations/{answered.code}/analysis/why/").status_code == 200
    )
    assert viewer.post(theme_url, {"action": "rename", "rename-label": "x"}).status_code == 403
    officer = client_for(bob)
    assert (
        officer.post(
            f"/staff/alpha/consultations/{answered.code}/analysis/why/", {"stance_key": ""}
        ).status_code
        == 403
    )
    assert Decision.objects.count() == 0


def test_a_failing_run_is_reported_and_keeps_the_previous_results(
    answered, analyst, django_capture_on_commit_callbacks, monkeypatch
):
    client = client_for(analyst.user)
    first = analyse(client, answered, django_capture_on_commit_callbacks)

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("civicloop_engine.pipeline.analyse", broken)
    analyse(client, answered, django_capture_on_commit_callbacks)
    failed = AnalysisRun.objects.filter(status=AnalysisRun.Status.FAILED).get()
    assert Job.objects.get(pk=failed.job_id).status == "failed"
    assert "Nothing was changed" in Job.objects.get(pk=failed.job_id).message
    first.refresh_from_db()
    assert first.is_current
    assert MachineResult.objects.filter(run=failed).count() == 0
    page = client.get(f"/staff/alpha/consultations/{answered.code}/analysis/why/")
    assert "engine exploded" not in page.content.decode()


def test_themes_csv_and_response_export_and_api_carry_themes(
    answered, analyst, alice_client, django_capture_on_commit_callbacks
):
    analyse(client_for(analyst.user), answered, django_capture_on_commit_callbacks)
    view = selectors.analysis_view(answered, "why")
    page = alice_client.get(f"/staff/alpha/consultations/{answered.code}/analysis/why/themes.csv")
    rows = list(csv.reader(io.StringIO(page.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["theme", "description", "keywords", "responses"]
    assert [r[0] for r in rows[1:-2]] == [t.label for t in view.themes]
    assert [r[0] for r in rows[-2:]] == ["other (no theme)", "no answer"]
    assert rows[-1][3] == "2"
    export = alice_client.get(f"/staff/alpha/consultations/{answered.code}/export.csv")
    content = b"".join(export.streaming_content).decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(content)))
    assert "why: theme" in table[0] and "why: position" in table[0] and "why: campaign" in table[0]
    labels = {t.label for t in view.themes}
    assert {row["why: theme"] for row in table if row["why: theme"]} <= labels
    assert sum(1 for row in table if row["why: campaign"]) == 5


def test_api_lists_themes_for_the_tokens_organisation_only(
    answered, analyst, alpha, alice, beta, charlie, django_capture_on_commit_callbacks
):
    from django.test import Client

    from civicloop.consultations.services import api_token_create

    analyse(client_for(analyst.user), answered, django_capture_on_commit_callbacks)
    token = api_token_create(actor=alice, organisation=alpha, name="reports")
    api = Client()
    page = api.get(
        f"/api/v1/consultations/{answered.code}/themes", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert page.status_code == 200
    (question,) = page.json()["results"]
    view = selectors.analysis_view(answered, "why")
    assert question["question"] == "why" and question["positions_from"] == "closed question"
    assert [t["label"] for t in question["themes"]] == [t.label for t in view.themes]
    assert question["campaigns"][0]["count"] == 5
    references = set(answered.responses.values_list("reference", flat=True))
    assert set(question["campaigns"][0]["responses"]) <= references
    theirs = api_token_create(actor=charlie, organisation=beta, name="x")
    page = api.get(
        f"/api/v1/consultations/{answered.code}/themes", HTTP_AUTHORIZATION=f"Bearer {theirs}"
    )
    assert page.status_code == 404


def test_a_question_nobody_answered_analyses_to_no_themes(
    consultation, analyst, django_capture_on_commit_callbacks
):
    add_responses(consultation, ["", "   ", "N/A"], "agree")
    run = analyse(client_for(analyst.user), consultation, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED and run.responses_analysed == 3
    view = selectors.analysis_view(consultation, "why")
    assert view.themes == [] and view.campaigns == [] and view.unanswered == 3
    page = client_for(analyst.user).get(
        f"/staff/alpha/consultations/{consultation.code}/analysis/why/"
    )
    assert page.status_code == 200 and "No answer to this question" in page.content.decode()


def test_a_built_view_is_kept_until_a_decision_changes_it(
    answered,
    analyst,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
    monkeypatch,
):
    client = client_for(analyst.user)
    analyse(client, answered, django_capture_on_commit_callbacks)
    first = selectors.analysis_view(answered, "why")
    with django_assert_max_num_queries(5):  # no reading every result again
        again = selectors.analysis_view(answered, "why")
    assert [(t.code, t.count) for t in again.themes] == [(t.code, t.count) for t in first.themes]
    assert again.responses is first.responses
    # Words are made per request (they follow the language), never kept with the view.
    words = {"support": "Cytuno", "oppose": "Anghytuno", "neutral": "Dim ateb"}
    monkeypatch.setattr(selectors, "position_labels", lambda *args: words)
    welsh = selectors.analysis_view(answered, "why")
    assert welsh.position_labels == words and welsh.themes[0].leading in words.values()
    monkeypatch.undo()
    assert selectors.analysis_view(answered, "why").position_labels["support"] == "Agree"
    # A decision changes the view at once.
    theme = first.themes[0]
    services.theme_rename(
        actor=analyst.user,
        consultation=answered,
        question_key="why",
        code=theme.code,
        label="Renamed now",
        description="",
    )
    assert selectors.analysis_view(answered, "why").by_code[theme.code].label == "Renamed now"
