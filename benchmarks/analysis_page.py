"""How long an analyst waits for the analysis pages of a large consultation (`make bench`).

A fresh demo database; the Riverside "Repairs" consultation grows to RESPONSES answers
(sentences of the demo's own answers recombined, so the text varies); the real engine
analyses its first free-text question as the worker would; then the analyst's pages are
fetched through Django's test client, each twice (the first after a cold start, the second
as a person clicking on), and again after one rename (a decision changes the view).

Prints a Markdown table for docs/benchmarks.md."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import env_for

ROOT = Path(__file__).resolve().parent.parent
RESPONSES = int(os.environ.get("BENCH_RESPONSES", "100000"))
CLI = [sys.executable, "-m", "civicloop.cli"]

SCRIPT = r"""
import django, random, statistics, sys, time, uuid; django.setup()
from django.test import Client
from civicloop.accounts.models import Membership
from civicloop.analysis import selectors, services
from civicloop.consultations.models import Consultation, Response

target = int(sys.argv[1])
random.seed(7)
c = next(c for c in Consultation.objects.all() if services.text_questions(c) and c.responses.exists())
question = services.text_questions(c)[0]
existing = list(c.responses.values_list("answers", flat=True))
sentences = [s.strip() for a in existing for s in str(a.get(question.key, "")).split(".") if s.strip()]
made = 0
t0 = time.perf_counter()
while c.responses.count() < target:
    batch = []
    for _ in range(min(5000, target - c.responses.count())):
        answers = dict(random.choice(existing))
        answers[question.key] = ". ".join(random.sample(sentences, k=min(3, len(sentences)))) + "."
        batch.append(Response(consultation=c, idempotency_key=uuid.uuid4().hex, channel="web", answers=answers))
    Response.objects.bulk_create(batch)
grow = time.perf_counter() - t0
analyst = Membership.objects.filter(organisation=c.organisation, role__in=["analyst", "manager", "owner"]).select_related("user").first()
from civicloop.analysis.models import AnalysisRun
run = AnalysisRun.objects.filter(consultation=c, question_key=question.key, status="queued").first()
run = run or services.analysis_request(actor_membership=analyst, consultation=c, question_key=question.key)
t0 = time.perf_counter()
services.analysis_execute(run, progress=lambda *a: None)
analyse = time.perf_counter() - t0
client = Client()
client.force_login(analyst.user)
base = f"/staff/{c.organisation.slug}/consultations/{c.code}/analysis/"
view = selectors.analysis_view(c, question.key)
largest = view.themes[0]
getattr(selectors, "_VIEWS", {}).clear()  # the pages start cold
pages = [("index", base), ("question", base + question.key + "/"), ("largest theme", base + question.key + f"/themes/{largest.code}/")]
rows = []
for label, url in pages:
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        status = client.get(url).status_code
        times.append(time.perf_counter() - t0)
        assert status == 200, (url, status)
    rows.append((label, times[0], times[1]))
services.theme_rename(actor=analyst.user, consultation=c, question_key=question.key, code=largest.code, label="Renamed in the benchmark", description="")
t0 = time.perf_counter()
client.get(pages[1][1])
after_rename = time.perf_counter() - t0
t0 = time.perf_counter()
client.get(pages[1][1])
after_rename_again = time.perf_counter() - t0
print(f"| grow to {c.responses.count()} responses | {grow:.1f} | |")
run.refresh_from_db()
print(f"| analyse (engine + save), {run.representation} themes | {analyse:.1f} | |")
for label, first, second in rows:
    print(f"| {label} page | {first:.2f} | {second:.2f} |")
print(f"| question page after a rename | {after_rename:.2f} | {after_rename_again:.2f} |")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(Path(tmp), None)
        env["PYTHONPATH"] = str(ROOT)
        subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        env.update(
            SECRET_KEY_FILE=str(Path(tmp) / "secret_key"),
            CIVICLOOP_CREDENTIALS_KEY=(Path(tmp) / "credentials_key").read_text().strip(),
            ALLOWED_HOSTS="testserver,127.0.0.1",
            CIVICLOOP_HTTPS="false",
            DJANGO_SETTINGS_MODULE="civicloop.settings",
        )
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(RESPONSES)], env=env, capture_output=True, text=True
        )
        if out.returncode:
            raise SystemExit(out.stderr[-3000:])
    print(f"\n## Analysis pages of a {RESPONSES:,}-response consultation (SQLite)\n")
    print("| Step | Seconds (first) | Seconds (again) |\n| --- | --- | --- |")
    print(out.stdout.strip())


if __name__ == "__main__":
    main()
