#!/usr/bin/env python
"""A new user's walk through a running `make demo` (http://127.0.0.1:8000) in headless Chromium:
sign in as a manager, build and publish a consultation, answer it on a phone-sized page, find the
response and download the CSV. Run: .venv/bin/python scripts/walkthrough.py"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.sync_api import sync_playwright

base = "http://127.0.0.1:8000"
shots = Path("var/walkthrough")  # screenshots to look at afterwards
shots.mkdir(parents=True, exist_ok=True)
with sync_playwright() as p:
    b = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    staff = b.new_page(viewport={"width": 1100, "height": 900})
    staff.goto(base + "/sign-in/")
    staff.fill("#id_username", "manager@ashworth.example")
    staff.fill("#id_password", "civicloop-demo-2026")
    staff.click("button.govuk-button:has-text('Sign in')")
    staff.goto(base + "/staff/ashworth/consultations/")
    staff.click("text=Start a new consultation")
    staff.fill("#id_title", "Bin collection days")
    staff.fill("#id_summary", "Should bins be collected on Saturdays?")
    staff.fill("#id_privacy_notice", "We use your answers only for this decision.")
    closes = (dt.datetime.now() + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    staff.fill("#id_closes_at", closes)
    staff.check("input[name=access][value=anyone]")
    staff.click("button:has-text('Create draft')")
    print("after create:", staff.url)
    staff.fill("#id_title", "Your view")  # section form
    staff.click("button:has-text('Add section')")
    staff.select_option("select[name=type]", "agree_scale")
    staff.fill("input[name=text]", "Bins should be collected on Saturdays")
    staff.fill("input[name=key]", "saturday")
    staff.check("input[name=required]")
    staff.click("button:has-text('Add question')")
    staff.select_option("select[name=type]", "free_text")
    staff.fill("input[name=text]", "Why?")
    staff.fill("input[name=key]", "why")
    staff.click("button:has-text('Add question')")
    staff.screenshot(path=str(shots / "step1.png"), full_page=True)
    staff.click("a:has-text('Overview')")
    staff.click("button:has-text('Publish')")
    staff.screenshot(path=str(shots / "step2.png"), full_page=True)
    public_url = staff.locator("a[href*='/o/ashworth/consultations/']").first.get_attribute("href")
    print("public:", public_url)
    person = b.new_page(viewport={"width": 400, "height": 800})
    person.goto(base + public_url)
    person.click("text=Start now")
    person.check("input[name=saturday][value=agree]")
    person.fill("textarea[name=why]", "I work weekdays and miss the bins.")
    person.click("button:has-text('Continue')")
    person.click("button:has-text('Send response')")
    ref = person.locator("[data-testid=reference]").inner_text()
    person.screenshot(path=str(shots / "step3.png"), full_page=True)
    print("reference:", ref)
    staff.reload()
    staff.click("a:has-text('Responses')")
    assert ref in staff.content(), "response not listed"
    with staff.expect_download() as dl:
        staff.click("a:has-text('Overview')")
        staff.click("a:has-text('All responses as CSV')")
    path = dl.value.path()
    text = Path(path).read_text(encoding="utf-8-sig")
    print(
        "csv:",
        text.splitlines()[0][:80],
        "| rows:",
        len(text.splitlines()) - 1,
        "| has ref:",
        ref in text,
    )
    b.close()
