"""Load test of public submission through the production server (`make bench`).

Bounded in count and time, loopback only. For each database (SQLite, and
PostgreSQL when one answers):

1. a fresh demo database and `civicloop serve` (gunicorn, 4 processes x 4 threads);
2. RESPONDENTS virtual people each answer the open "Cycle lanes on Station Road"
   consultation page by page (session cookie, CSRF token, as a browser would);
3. then all of them press "Send response" at once from CONCURRENCY client threads, and
   a tenth of them press it a second time (a double click);
4. finally the database is counted: every acknowledged submission must be stored
   exactly once, and nothing unacknowledged may appear.

Prints a Markdown table for docs/benchmarks.md."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import drop, env_for, free_port, postgres_database, wait_until_up

RESPONDENTS = int(os.environ.get("BENCH_RESPONDENTS", "1200"))
CONCURRENCY = 16
DOUBLE_CLICK_EVERY = 10
CLI = [sys.executable, "-m", "civicloop.cli"]


class Browser:
    """One respondent: keeps cookies and a keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";")[0]
        return response.status, response.getheader("Location") or "", text

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")


def prepare(port: int, base: str, n: int) -> tuple[Browser, str]:
    b = Browser(port)
    status, location, _ = b.request("GET", f"{base}start/")
    status, _, _ = b.request("GET", location)
    side = ["agree", "disagree", "neither", "strongly_agree"][n % 4]
    form = {
        "csrfmiddlewaretoken": b.csrf(),
        "support": side,
        "reasons": f"Respondent {n} thinks the lanes matter.",
        "travel": "bicycle",
    }
    status, location, _ = b.request("POST", f"{base}answer/1/", form)
    assert status == 302, status
    status, location, _ = b.request(
        "POST", location, {"csrfmiddlewaretoken": b.csrf(), "age": "25_34"}
    )
    assert status == 302 and location.endswith("/check/"), (status, location)
    _, _, page = b.request("GET", location)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    return b, key


def submit(browser: Browser, base: str, key: str) -> tuple[float, bool]:
    start = time.perf_counter()
    status, location, _ = browser.request(
        "POST", f"{base}check/", {"csrfmiddlewaretoken": browser.csrf(), "idempotency_key": key}
    )
    return time.perf_counter() - start, status == 302 and location.endswith("/done/")


COUNT = """
import django, json; django.setup()
from django.db.models import Count
from civicloop.consultations.models import Response
keys = json.load(open({keys!r}))
rows = Response.objects.filter(idempotency_key__in=keys)
dupes = Response.objects.values("consultation", "idempotency_key").annotate(n=Count("id")).filter(n__gt=1).count()
bench = Response.objects.filter(submitted_at__gte=__import__("datetime").datetime.fromisoformat({since!r})).count()
print(json.dumps({{"stored": rows.count(), "duplicates": dupes, "new_rows": bench}}))
"""


def measure(env: dict[str, str], label: str) -> str:
    port = free_port()
    env = {
        **env,
        "SECRET_KEY_FILE": str(Path(env["CIVICLOOP_DATA_DIR"]) / "secret_key"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CIVICLOOP_HTTPS": "false",
        "CIVICLOOP_SUBMISSIONS_PER_MINUTE": "1000000",
        "CIVICLOOP_RESPONSES_PER_CLIENT_HOUR": "1000000",
    }
    code = subprocess.run(
        [
            *CLI,
            "manage",
            "shell",
            "--no-imports",
            "-c",
            "from civicloop.consultations.models import Consultation as C; print(C.objects.get(title__startswith='Cycle lanes').code)",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    base = f"/o/ashworth/consultations/{code}/"
    server = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "4",
            "--threads",
            "4",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/sign-in/", time.monotonic() + 60)
        since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 1))
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            prepared = list(pool.map(lambda n: prepare(port, base, n), range(RESPONDENTS)))
        answering = time.perf_counter() - t0
        jobs = [(b, k) for b, k in prepared] + [
            (b, k) for i, (b, k) in enumerate(prepared) if i % DOUBLE_CLICK_EVERY == 0
        ]
        t1 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(lambda job: submit(job[0], base, job[1]), jobs[:RESPONDENTS]))
            repeats = list(pool.map(lambda job: submit(job[0], base, job[1]), jobs[RESPONDENTS:]))
        wall = time.perf_counter() - t1
        acked = [k for (_b, k), (_, ok) in zip(jobs[:RESPONDENTS], results, strict=True) if ok]
        keys_file = Path(env["CIVICLOOP_DATA_DIR"]) / "acked.json"
        keys_file.write_text(json.dumps(acked))
        counted = json.loads(
            subprocess.run(
                [sys.executable, "-c", COUNT.format(keys=str(keys_file), since=since)],
                env={**env, "DJANGO_SETTINGS_MODULE": "civicloop.settings"},
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    latencies = sorted(r[0] * 1000 for r in results)
    q = statistics.quantiles(latencies, n=100)
    lost = len(acked) - counted["stored"]
    unacked = counted["new_rows"] - counted["stored"]
    return (
        f"| {label} | {RESPONDENTS} | {RESPONDENTS / answering * 5:.0f} | {len(acked) / wall:.0f} | "
        f"{q[49]:.0f} | {q[94]:.0f} | {q[98]:.0f} | {len(acked)} | {counted['stored']} | {lost} | "
        f"{counted['duplicates']} | {sum(ok for _, ok in repeats)}/{len(repeats)} | {unacked} |"
    )


def main() -> None:
    print(
        f"\n## Public submission load test ({RESPONDENTS} respondents, {CONCURRENCY} concurrent clients, "
        "gunicorn 4 processes x 4 threads, loopback)\n"
    )
    print(
        "| Database | Respondents | Answering req/s | Submissions/s | p50 ms | p95 ms | p99 ms | Acknowledged | Stored | Lost | Duplicated | Double clicks answered | Stored without ack |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(Path(tmp), None)
        subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        print(measure(env, "SQLite"), flush=True)
    pg = postgres_database()
    if pg:
        admin, url = pg
        try:
            with tempfile.TemporaryDirectory() as tmp:
                env = env_for(Path(tmp), url)
                subprocess.run(
                    [*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True
                )
                print(measure(env, "PostgreSQL"), flush=True)
        finally:
            drop(admin, url)


if __name__ == "__main__":
    main()
