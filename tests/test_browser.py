"""Real headless Chromium (Debian's), driven by Playwright, with axe-core checking
WCAG 2.2 A and AA on the pages people see first."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop; the ORM calls in fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CIVICLOOP_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "frontend/node_modules/axe-core/axe.min.js"
REQUIRED = os.environ.get("CIVICLOOP_REQUIRE_BROWSER") == "1"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if not shutil.which(CHROMIUM) and CHROMIUM not in missing:
        missing.append(CHROMIUM)
    if missing:
        message = f"browser tests need {', '.join(missing)} (make setup; apt-get install chromium)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(bypass_csp=True)  # so that axe can be injected
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button.govuk-button:has-text('Sign in')")


def test_sign_in_dashboard_and_public_page_pass_axe(live_server, page, alpha, alice):
    from tests.conftest import PASSWORD

    base = live_server.url
    page.goto(f"{base}/sign-in/")
    assert axe_violations(page) == []

    page.fill("#id_username", alice.email)
    page.fill("#id_password", "wrong password")
    page.click("button.govuk-button:has-text('Sign in')")
    assert page.locator(".govuk-error-summary").is_visible()
    assert axe_violations(page) == []

    sign_in(page, base, alice.email, PASSWORD)
    page.wait_for_url(f"{base}/staff/alpha/")
    assert page.locator("h1").inner_text() == "Alpha Council"
    assert axe_violations(page) == []

    for path in ("people/", "people/invite/", "settings/", "audit/"):
        page.goto(f"{base}/staff/alpha/{path}")
        assert axe_violations(page) == [], path

    page.goto(f"{base}/o/alpha/")
    assert page.locator("[data-testid=public-header]").is_visible()
    assert axe_violations(page) == []


def test_pages_work_without_javascript(live_server, browser, alpha, alice):
    from tests.conftest import PASSWORD

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    base = live_server.url
    sign_in(page, base, alice.email, PASSWORD)
    page.wait_for_url(f"{base}/staff/alpha/")
    page.goto(f"{base}/staff/alpha/settings/")
    page.fill("#id_name", "Alpha Town Council")
    page.click("button:has-text('Save settings')")
    assert page.locator(".govuk-notification-banner--success").is_visible()
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Town Council"
    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{base}/sign-in/")
    context.close()


def test_scripts_run_under_the_content_security_policy(live_server, browser, alpha, alice):
    """No CSP violations, and GOV.UK Frontend's JavaScript initialises (nonce works)."""
    from tests.conftest import PASSWORD

    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server.url, alice.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/staff/alpha/")
    classes = page.evaluate("document.body.className")
    assert "govuk-frontend-supported" in classes
    assert page.evaluate("typeof window.htmx") == "object"
    assert problems == []
    context.close()


def test_answering_a_consultation_passes_axe_on_every_page(live_server, page, consultation):
    """The whole public flow, with JavaScript, checked by axe at every step."""
    base = f"{live_server.url}/o/alpha/consultations/{consultation.code}"
    seen: list[str] = []

    def check(label: str) -> None:
        assert axe_violations(page) == [], label
        seen.append(label)

    page.goto(f"{live_server.url}/o/alpha/consultations/")
    check("hub")
    page.goto(f"{base}/")
    check("consultation page")
    page.click("text=Start now")
    check("section 1")
    page.click("button:has-text('Continue')")
    assert page.locator(".govuk-error-summary").is_visible()
    check("section 1 with errors")
    page.check("input[name=agree][value=disagree]")
    page.fill("textarea[name=why]", "It took four weeks")
    page.check("input[name=priorities][value=speed]")
    page.click("button:has-text('Continue')")
    page.select_option("select[name=rank__1]", "email")
    page.select_option("select[name=rank__2]", "phone")
    page.select_option("select[name=rank__3]", "text")
    check("section 2 (ranking, shown by skip logic)")
    page.click("button:has-text('Continue')")
    page.fill("input[name=postcode]", "sw1a 1aa")
    page.check("input[name=age][value=prefer_not_to_say]")
    check("section 3 (about you)")
    page.click("button:has-text('Save and come back later')")
    check("saved")
    page.goto(f"{base}/check/")
    check("check your answers")
    page.click("button:has-text('Send response')")
    assert page.locator(".govuk-panel--confirmation").is_visible()
    check("confirmation")
    page.goto(f"{base}/erase/")
    check("erasure request")
    assert len(seen) == 10
    from civicloop.consultations.models import Response

    stored = Response.objects.get()
    assert stored.answers["rank"] == ["email", "phone", "text"]
    assert stored.answers["postcode"] == "SW1A 1AA"


def test_answering_without_javascript_on_a_phone(live_server, browser, consultation):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    page = context.new_page()
    base = f"{live_server.url}/o/alpha/consultations/{consultation.code}"
    page.goto(f"{base}/start/")
    page.check("input[name=agree][value=agree]")
    page.click("button:has-text('Continue')")
    page.click("button:has-text('Continue')")  # about you: all optional
    page.click("button:has-text('Send response')")
    assert page.locator(".govuk-panel--confirmation").is_visible()
    # No horizontal scrolling on a small screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


def test_staff_consultation_pages_pass_axe(live_server, page, alpha, alice, consultation):
    from civicloop.consultations import services
    from tests.conftest import PASSWORD

    response, _ = services.response_submit(
        consultation=consultation,
        answers={"agree": "agree", "why": "Fine"},
        channel="web",
        idempotency_key="x",
    )
    sign_in(page, live_server.url, alice.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/staff/alpha/")
    base = f"{live_server.url}/staff/alpha/consultations"
    for path in (
        "/",
        f"/{consultation.code}/",
        f"/{consultation.code}/edit/",
        f"/{consultation.code}/questions/",
        f"/{consultation.code}/preview/",
        f"/{consultation.code}/responses/",
        f"/{consultation.code}/responses/{response.reference}/",
        f"/{consultation.code}/responses/new/",
        f"/{consultation.code}/import/",
        f"/{consultation.code}/documents/",
    ):
        page.goto(base + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path


def test_analysis_pages_pass_axe_and_decisions_work_without_javascript(
    live_server, browser, alpha, alice, consultation
):
    """Run an analysis, read it, then rename and move with JavaScript switched off."""
    from civicloop.accounts.models import Membership
    from civicloop.analysis import selectors, services
    from civicloop.analysis.models import AnalysisRun
    from tests.conftest import PASSWORD
    from tests.test_analysis import CONTACT, DAMP, REPAIRS, add_responses

    add_responses(consultation, REPAIRS, "disagree")
    add_responses(consultation, DAMP, "strongly_disagree")
    add_responses(consultation, CONTACT, "agree")
    run = AnalysisRun.objects.create(
        consultation=consultation, question_key="why", stance_key="agree", created_by=alice
    )
    services.analysis_execute(run, lambda percent, message: None)
    membership = Membership.objects.get(user=alice, organisation=alpha)
    assert membership.can("analyse")
    view = selectors.analysis_view(consultation, "why")
    first, second = view.themes[0], view.themes[1]
    base = f"{live_server.url}/staff/alpha/consultations/{consultation.code}/analysis"

    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server.url, alice.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/staff/alpha/")
    for path in ("/", "/why/", f"/why/themes/{first.code}/", "/why/history/"):
        page.goto(base + path)
        assert axe_violations(page) == [], path
    context.close()

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, alice.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/staff/alpha/")
    page.goto(f"{base}/why/themes/{first.code}/")
    page.fill("#id_rename-label", "Boiler repairs are too slow")
    page.click("button:has-text('Save name')")
    assert page.locator("h1").inner_text() == "Boiler repairs are too slow"
    page.locator("input[name=responses]").first.check()
    page.select_option("#id_move-theme", second.code)
    page.click("button:has-text('Move selected')")
    assert page.locator(".govuk-notification-banner--success").is_visible()
    context.close()
    after = selectors.analysis_view(consultation, "why")
    assert after.by_code[first.code].label == "Boiler repairs are too slow"
    assert after.by_code[first.code].count == first.count - 1
    assert after.by_code[second.code].count == second.count + 1


def test_guidance_findings_update_as_you_type_and_pages_pass_axe(live_server, page, alpha, alice):
    from tests.conftest import PASSWORD

    sign_in(page, live_server.url, alice.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/staff/alpha/")
    page.goto(f"{live_server.url}/staff/alpha/guidance/settings/")
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/staff/alpha/channels/")
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/staff/alpha/channels/?network=email")
    assert page.locator("#id_security").count() == 1 or page.get_by_label("STARTTLS").count() == 1
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/staff/alpha/guidance/check/")
    assert axe_violations(page) == []
    page.fill("#id_text", "Email jane.smith@gmail.com to book")
    page.locator("#id_text").press("End")  # a keyup: htmx posts the form after a pause
    page.wait_for_selector("#findings .govuk-tag--red", timeout=10_000)
    assert "Email address" in page.locator("#findings").inner_text()
    assert axe_violations(page) == []


def test_composing_and_reviewing_posts_pass_axe_without_javascript(
    live_server, browser, alpha, alice, bob
):
    from civicloop.publishing.models import Post
    from tests.conftest import PASSWORD

    base = f"{live_server.url}/staff/alpha/posts"
    context = browser.new_context(java_script_enabled=False)
    author = context.new_page()
    sign_in(author, live_server.url, bob.email, PASSWORD)
    author.wait_for_url(f"{live_server.url}/staff/alpha/")
    author.goto(f"{base}/new/")
    author.fill("#id_text", "Call Jane on 07700 900123 about the bins.")
    author.click("button:has-text('Save and check')")
    assert "Phone number" in author.locator("#findings").inner_text()
    author.click("button:has-text('Send for review')")
    context.close()
    post = Post.objects.get()
    assert post.status == "in_review"

    context = browser.new_context(bypass_csp=True)
    reviewer = context.new_page()
    sign_in(reviewer, live_server.url, alice.email, PASSWORD)
    reviewer.wait_for_url(f"{live_server.url}/staff/alpha/")
    for path in ("/", "/new/", "/review/", f"/{post.code}/"):
        reviewer.goto(base + path)
        assert axe_violations(reviewer) == [], path
    # With JavaScript the composer counts each network's characters as you type.
    reviewer.goto(base + "/new/")
    reviewer.fill("#id_text", "Bins " * 70)
    reviewer.locator("#id_text").press("End")
    reviewer.wait_for_selector("#findings .govuk-tag--red", timeout=10_000)
    counts = reviewer.locator("#findings").inner_text()
    assert "Bluesky: 349 of 300 characters" in counts and "Mastodon: 349 of 500" in counts
    assert axe_violations(reviewer) == []
    reviewer.goto(base + f"/{post.code}/")
    reviewer.check("input[name=decision][value=approved]")
    reviewer.click("button:has-text('Record decision')")
    assert reviewer.locator(".govuk-notification-banner--success").is_visible()
    context.close()
    post.refresh_from_db()
    assert post.status == "ready"


def test_sign_in_with_facebook_and_choosing_a_page_pass_axe(
    live_server, page, alpha, alice, monkeypatch
):
    """The whole Facebook Login round trip in a real browser. Facebook's dialog is
    answered by Playwright inside the browser (it sends the person straight back, as
    Facebook does once they agree); the Graph API calls the server makes are replayed
    from the cassette in this process. Nothing leaves the machine."""
    from urllib.parse import parse_qs, urlsplit

    import responses
    from cryptography.fernet import Fernet

    from civicloop.channels.models import Channel
    from tests.conftest import PASSWORD

    cassettes = Path(__file__).resolve().parent / "cassettes"
    monkeypatch.setenv("CIVICLOOP_META_APP_ID", "1234567890")
    monkeypatch.setenv("CIVICLOOP_META_APP_SECRET", "meta-secret")
    monkeypatch.setenv("CIVICLOOP_CREDENTIALS_KEY", Fernet.generate_key().decode())

    def facebook_dialog(route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        back = f"{query['redirect_uri'][0]}?code=browsercode&state={query['state'][0]}"
        route.fulfill(status=302, headers={"Location": back})

    page.route("https://www.facebook.com/**", facebook_dialog)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        api.add_passthru(live_server.url)
        api._add_from_file(cassettes / "facebook" / "login.yaml")
        api._add_from_file(cassettes / "facebook" / "publish.yaml")
        sign_in(page, live_server.url, alice.email, PASSWORD)
        page.wait_for_url(f"{live_server.url}/staff/alpha/")
        page.goto(f"{live_server.url}/staff/alpha/channels/?network=facebook")
        page.click("button:has-text('Sign in with Facebook')")
        page.wait_for_url(f"{live_server.url}/staff/alpha/channels/pages/")
        assert axe_violations(page) == []
        with page.expect_navigation():
            page.click("button:has-text('Connect')")  # no choice: a clear error
        page.wait_for_selector(".govuk-error-summary", timeout=10_000)
        assert axe_violations(page) == []
        page.check("label:has-text('Ashworth Council')")
        page.click("button:has-text('Connect')")
        page.wait_for_url(f"{live_server.url}/staff/alpha/channels/")
        assert "Facebook account connected" in page.content()
    channel = Channel.objects.get()
    assert (channel.network, channel.handle) == ("facebook", "Ashworth Council")
