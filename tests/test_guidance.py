"""Guidance as code: every rule both passes a good post and catches a bad one."""

from __future__ import annotations

import datetime as dt

import pytest

from civicloop.publishing.guidance import (
    ADVICE,
    PASS,
    REVIEW,
    RULES,
    Draft,
    ElectionPeriod,
    Image,
    Policy,
    WordRule,
    check,
    reading_age,
    text_length,
)

GOOD = "Bins will be collected on Saturday this week because of the bank holiday. #BankHoliday"


def levels(report, rule_id):
    return [f.level for f in report.findings if f.rule == rule_id]


def test_a_plain_post_passes_every_rule():
    report = check(Draft(GOOD, network="bluesky", images=(Image("A bin lorry on a street"),)))
    assert report.risk == "low"
    assert {f.rule for f in report.findings} == set(RULES)
    assert all(f.level == PASS for f in report.findings)
    assert all(f.source for f in report.findings)


@pytest.mark.parametrize(
    ("rule_id", "draft", "level", "words"),
    [
        (
            "alt-text",
            Draft(GOOD, images=(Image(None), Image(" "))),
            REVIEW,
            "2 images have no alt text",
        ),
        (
            "sentence-length",
            Draft(
                "We are writing to let everyone in the borough know that the recycling centre on "
                "Mill Lane will be closed for essential maintenance work from Monday until Friday next week."
            ),
            ADVICE,
            "over 25 words",
        ),
        (
            "hashtags",
            Draft("Bins are collected on Saturday #bankholidaychanges"),
            ADVICE,
            "CamelCase",
        ),
        ("hashtags", Draft("Bins on Saturday #One #Two #Three"), ADVICE, "3 hashtags"),
        (
            "hashtags",
            Draft("Our #BankHoliday bin collections move to Saturday"),
            ADVICE,
            "at the end",
        ),
        ("emoji", Draft("Great day 🎉🎉🎉🎉 at the fair"), ADVICE, "4 emoji"),
        ("emoji", Draft("We ❤️ our parks"), ADVICE, "stand in for a word"),
        (
            "links",
            Draft("Read more at https://example.gov.uk/a and https://example.gov.uk/b"),
            ADVICE,
            "2 links",
        ),
        (
            "reading-age",
            Draft(
                "Notwithstanding considerable administrative complications, the authority's "
                "comprehensive infrastructure rationalisation necessitates temporary operational "
                "discontinuation of municipal recreational facilities."
            ),
            ADVICE,
            "Reading age",
        ),
        ("acronyms", Draft("Apply for a DFG to adapt your home."), ADVICE, "Explain DFG"),
        (
            "personal-data",
            Draft("Contact jane.smith@gmail.com for details"),
            REVIEW,
            "Email address",
        ),
        ("personal-data", Draft("Ring 07700 900123 for details"), REVIEW, "Phone number"),
        ("personal-data", Draft("His NI number is AB 12 34 56 C"), REVIEW, "National Insurance"),
        (
            "personal-data",
            Draft("Well done to John Smith of LS1 4AP for winning"),
            REVIEW,
            "postcode together",
        ),
        (
            "press-release",
            Draft("The council is pleased to announce a new park."),
            ADVICE,
            "press release",
        ),
        ("length", Draft("a" * 301, network="bluesky"), REVIEW, "bluesky allows 300"),
    ],
)
def test_each_rule_catches_what_it_is_for(rule_id, draft, level, words):
    report = check(draft)
    found = [f for f in report.findings if f.rule == rule_id and f.level != PASS]
    assert found, [(f.rule, f.level, f.message) for f in report.findings if f.level != PASS]
    assert found[0].level == level and words in " ".join(f.message for f in found)
    assert report.risk == ("high" if level == REVIEW else "medium") or report.risk == "high"


def test_good_forms_of_the_same_things_pass():
    assert levels(
        check(Draft("Apply for a Disabled Facilities Grant (DFG) today.")), "acronyms"
    ) == [PASS]
    assert levels(check(Draft("The NHS and the BBC are in the UK.")), "acronyms") == [PASS]
    assert levels(check(Draft("Bins on Saturday #BankHoliday #Leeds")), "hashtags") == [PASS]
    assert levels(check(Draft("Fair today 🎉")), "emoji") == [PASS]
    assert levels(check(Draft("Visit https://example.gov.uk/bins")), "personal-data") == [PASS]
    assert levels(check(Draft("a" * 300, network="bluesky")), "length") == [PASS]


def test_network_lengths_are_counted_the_networks_way():
    link = "https://example.gov.uk/" + "a" * 100
    assert text_length(f"See {link}", "x") == 4 + 23
    assert text_length("e\u0301", "bluesky") == 1  # one grapheme, two code points
    assert levels(check(Draft("x" * 250 + " " + link, network="x")), "length") == [PASS]
    assert levels(check(Draft("x" * 250 + " " + link, network="mastodon")), "length") == [PASS]


def test_reading_age():
    assert reading_age("Too short") is None
    easy = reading_age("The bins go out on Monday. Put them at the kerb by seven. Thank you all.")
    hard = reading_age(
        "Comprehensive infrastructural rationalisation necessitates operational discontinuation "
        "of municipal recreational facilities notwithstanding administrative complications."
    )
    assert easy is not None and hard is not None and easy < 9 < 14 < hard


ELECTION = ElectionPeriod("Local elections 2027", dt.date(2027, 3, 22), dt.date(2027, 5, 6))


@pytest.mark.parametrize(
    ("text", "level", "words"),
    [
        ("Councillor Patel opened the new library today.", REVIEW, "names a politician"),
        ("RT @LabourParty: great news for the town", REVIEW, "sharing or quoting"),
        ("Have your say on our new consultation about parks", REVIEW, "new campaigns"),
        ("Bins are collected on Saturday this week.", ADVICE, "Keep to factual"),
    ],
)
def test_pre_election_period(text, level, words):
    policy = Policy(elections=(ELECTION,))
    inside = check(Draft(text, on=dt.date(2027, 4, 10)), policy)
    found = [f for f in inside.findings if f.rule == "pre-election" and f.level != PASS]
    assert found[0].level == level and words in found[0].message
    outside = check(Draft(text, on=dt.date(2027, 5, 7)), policy)
    assert levels(outside, "pre-election") == [PASS]


def test_organisation_policy_switches_rules_off_and_adds_its_own():
    policy = Policy(
        disabled=frozenset({"emoji"}),
        blocked_words=("cheap",),
        sensitive_topics=("Mill Lane fire",),
        own_rules=(
            WordRule("say-residents", ("citizens",), ADVICE, "Say residents, not citizens."),
        ),
    )
    report = check(Draft("Cheap 🎉🎉🎉🎉 news for citizens after the Mill Lane fire"), policy)
    assert "emoji" not in {f.rule for f in report.findings}
    assert levels(report, "blocked-words") == [REVIEW]
    assert levels(report, "sensitive-topics") == [REVIEW]
    assert levels(report, "say-residents") == [ADVICE]
    assert report.risk == "high" and report.findings[0].level == REVIEW  # most serious first
    quiet = check(Draft(GOOD), policy)
    assert levels(quiet, "say-residents") == [PASS] and quiet.risk == "low"


def run_cli(*args: str, env: dict[str, str], cwd, stdin: str | None = None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "civicloop.cli", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_cli_prints_findings_as_json_with_and_without_an_organisation(tmp_path):
    import json
    import os

    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "g" * 50,
        "ALLOWED_HOSTS": "x",
        "CIVICLOOP_DATA_DIR": str(tmp_path),
    }
    plain = run_cli(
        "guidance",
        "check",
        "--network",
        "bluesky",
        "--image-without-alt",
        "-",
        env=env,
        cwd=tmp_path,
        stdin="Bins move to Saturday. #BankHoliday",
    )
    assert plain.returncode == 0, plain.stderr
    body = json.loads(plain.stdout)
    assert body["risk"] == "high"
    assert [f["rule"] for f in body["findings"]] == ["alt-text"]
    assert set(body["findings"][0]) == {"rule", "level", "message", "source"}
    everything = json.loads(
        run_cli("guidance", "check", "--all", GOOD, env=env, cwd=tmp_path).stdout
    )
    assert everything["risk"] == "low" and {f["rule"] for f in everything["findings"]} == set(RULES)
    for bad, message in (
        (["guidance", "check", "--network", "myspace", "hi"], "unknown network"),
        (["guidance", "check", "--on", "tomorrow", "hi"], "is not a date"),
        (["guidance", "check", "-"], "give the post's text"),
    ):
        result = run_cli(*bad, env=env, cwd=tmp_path, stdin="")
        assert (
            result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
        )
    assert run_cli("demo", "--no-serve", env=env, cwd=tmp_path).returncode == 0
    post = "Our citizens can meet Councillor Khan at the library"
    inside = json.loads(
        run_cli(
            "guidance",
            "check",
            "--organisation",
            "ashworth",
            "--on",
            "2027-04-10",
            post,
            env=env,
            cwd=tmp_path,
        ).stdout
    )
    rules = {f["rule"]: f["level"] for f in inside["findings"]}
    assert rules == {"pre-election": REVIEW, "blocked-words": REVIEW, "say-residents": ADVICE}
    after = json.loads(
        run_cli(
            "guidance",
            "check",
            "--organisation",
            "ashworth",
            "--on",
            "2027-05-07",
            post,
            env=env,
            cwd=tmp_path,
        ).stdout
    )
    assert "pre-election" not in {f["rule"] for f in after["findings"]}
    missing = run_cli("guidance", "check", "--organisation", "nowhere", "hi", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "no organisation" in missing.stderr


def test_check_page_shows_findings_without_javascript_and_as_a_fragment(
    alpha, alice_client, member_of
):
    from civicloop.publishing.models import ElectionPeriod

    ElectionPeriod.objects.create(
        organisation=alpha,
        name="Local elections",
        starts=dt.date(2027, 3, 22),
        ends=dt.date(2027, 5, 6),
    )
    url = "/staff/alpha/guidance/check/"
    page = alice_client.post(
        url,
        {
            "text": "Vote for Councillor Patel",
            "network": "x",
            "on": "2027-04-01",
            "has_image": "on",
        },
    )
    body = page.content.decode()
    assert page.status_code == 200 and "Needs review" in body and "pre-election period" in body
    assert "no alt text" in body and "<html" in body
    fragment = alice_client.post(url, {"text": GOOD, "network": "bluesky"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body and 'id="findings"' in body and "No problems found" in body
    page = alice_client.post(url, {"text": "", "network": "x"})
    assert page.status_code == 200 and "There is a problem" in page.content.decode()
    from tests.conftest import client_for

    assert client_for(member_of("analyst").user).get(url).status_code == 403


def test_settings_change_what_the_rules_do_and_every_change_is_audited(alpha, alice, alice_client):
    from civicloop.accounts.models import AuditEvent
    from civicloop.publishing.selectors import policy_for

    url = "/staff/alpha/guidance/settings/"
    assert alice_client.get(url).status_code == 200
    enabled = [r for r in RULES if r != "emoji"]
    page = alice_client.post(
        url,
        {
            "action": "settings",
            "enabled_rules": enabled,
            "blocked_words": "cheap\n",
            "sensitive_topics": "Mill Lane fire",
            "max_reading_age": "12",
        },
    )
    assert page.status_code == 302
    page = alice_client.post(
        url,
        {
            "action": "add_rule",
            "rule-words": "citizens, service users",
            "rule-level": REVIEW,
            "rule-message": "Say residents.",
        },
    )
    assert page.status_code == 302
    page = alice_client.post(
        url,
        {
            "action": "add_election",
            "election-name": "By-election",
            "election-starts": "2027-05-10",
            "election-ends": "2027-05-01",
        },
    )
    assert page.status_code == 200 and "Polling day must be on or after" in page.content.decode()
    policy = policy_for(alpha)
    assert "emoji" in policy.disabled and policy.blocked_words == ("cheap",)
    assert policy.max_reading_age == 12 and policy.own_rules[0].words == (
        "citizens",
        "service users",
    )
    report = check(Draft("Cheap 🎉🎉🎉🎉 for citizens"), policy)
    assert levels(report, "blocked-words") == [REVIEW] and levels(report, "own-1") == [REVIEW]
    assert "emoji" not in {f.rule for f in report.findings}
    actions = set(AuditEvent.objects.filter(organisation=alpha).values_list("action", flat=True))
    assert {"guidance.settings_changed", "guidance.rule_added"} <= actions
    assert alice_client.post(url, {"action": "remove_rule", "rule": "own-1"}).status_code == 302
    assert policy_for(alpha).own_rules == ()
