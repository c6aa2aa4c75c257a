"""Load test of public submission through the production server (`make bench`).

Bounded in count and time, loopback only. For each database (SQLite, and PostgreSQL
when one answers):

1. a fresh demo database, served by `civicloop serve` (gunicorn + whitenoise);
2. RESPONDENTS people who have answered every section of the open "Cycle lanes on
   Station Road" consultation (sessions written straight to the database: answering
   is not what is measured here);
3. wrk (C, so the load generator takes little of the two cores) presses "Send
   response" once per person — their own session cookie, CSRF token and idempotency
   key — from CONNECTIONS connections;
4. a second wrk run presses it again for a tenth of them (a double click);
5. the database is counted: every acknowledged submission stored exactly once.

Prints a Markdown table for docs/benchmarks.md. Needs `wrk` (Debian package)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import drop, env_for, free_port, postgres_database, wait_until_up

PREPARED = int(os.environ.get("BENCH_PREPARED", "9000"))  # more than a run can send
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
REPLAYS = 500
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WRK_THREADS = 2
WORKERS = os.environ.get("BENCH_WORKERS", "3")
THREADS = os.environ.get("BENCH_THREADS", "2")
CLI = [sys.executable, "-m", "civicloop.cli"]
HERE = Path(__file__).parent

PREPARE = """
import django, sys, uuid; django.setup()
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.utils.crypto import get_random_string
from civicloop.consultations.models import Consultation
c = Consultation.objects.get(title__startswith="Cycle lanes")
path = f"/o/{c.organisation.slug}/consultations/{c.code}/check/"
sides = ["agree", "strongly_disagree", "neither", "strongly_agree"]
with open(sys.argv[1], "w") as out, transaction.atomic():
    for n in range(int(sys.argv[2])):
        key = uuid.uuid4().hex
        s = SessionStore()
        s["consult:" + c.code] = {
            "answers": {"support": sides[n % 4], "reasons": f"Respondent {n} rides to work.", "travel": "bicycle", "age": "25_34"},
            "key": key, "draft": "", "invite": "",
        }
        s.create()
        out.write(f"{s.session_key};{get_random_string(32)};{key};{path}\\n")
print(c.pk)
"""

COUNT = """
import django, json, sys; django.setup()
from django.db.models import Count
from civicloop.consultations.models import Response
keys = [line.split(";")[2] for line in open(sys.argv[1])]
stored = Response.objects.filter(idempotency_key__in=keys).count()
dupes = Response.objects.values("consultation", "idempotency_key").annotate(n=Count("id")).filter(n__gt=1).count()
print(json.dumps({"stored": stored, "duplicates": dupes}))
"""


STORED_KEYS = """
import django, sys; django.setup()
from civicloop.consultations.models import Response
keys = [line.split(";")[2] for line in open(sys.argv[1])][:1000]
print(",".join(Response.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)))
"""


def wrk(port: int, requests_file: Path, seconds: int) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_REQUESTS": str(requests_file),
        "BENCH_THREADS_WRK": str(WRK_THREADS),
    }
    out = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "submit.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def python_json(code: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**env, "DJANGO_SETTINGS_MODULE": "civicloop.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def measure(env: dict[str, str], label: str) -> str:
    import json

    data = Path(env["CIVICLOOP_DATA_DIR"])
    env = {
        **env,
        "SECRET_KEY_FILE": str(data / "secret_key"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CIVICLOOP_HTTPS": "false",
        # Every request comes from 127.0.0.1 here; the per-client limits would stop the test.
        "CIVICLOOP_SUBMISSIONS_PER_MINUTE": "100000000",
        "CIVICLOOP_RESPONSES_PER_CLIENT_HOUR": "100000000",
    }
    requests_file = data / "requests.txt"
    python_json(PREPARE, env, str(requests_file), str(PREPARED))
    port = free_port()
    server = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            WORKERS,
            "--threads",
            THREADS,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/sign-in/", time.monotonic() + 60)
        first = wrk(port, requests_file, SECONDS)
        time.sleep(3)  # let requests still running at the cut-off finish before counting
        after_first = json.loads(python_json(COUNT, env, str(requests_file)))
        # Double clicks: people whose response is stored press "Send response" again.
        stored_keys = set(python_json(STORED_KEYS, env, str(requests_file)).split(","))
        replay_file = data / "replay.txt"
        replay_file.write_text(
            "".join(
                line
                for line in requests_file.read_text().splitlines(keepends=True)[: REPLAYS * 2]
                if line.split(";")[2] in stored_keys
            )
        )
        second = wrk(port, replay_file, 3)  # the first REPLAYS people press again, repeatedly
        time.sleep(3)
        after_second = json.loads(python_json(COUNT, env, str(requests_file)))
    finally:
        server.terminate()
        server.wait(timeout=20)
    if first["requests"] >= PREPARED:
        raise SystemExit("The run used up the prepared respondents: raise BENCH_PREPARED.")
    acked = first["acked"]
    rate = first["requests"] / first["seconds"]
    # Stored but not acknowledged: requests still in flight when wrk stopped (at most one
    # per connection). Lost: acknowledged but not stored (must be 0).
    in_flight = after_first["stored"] - acked
    lost = max(0, -in_flight)
    return (
        f"| {label} | {first['requests']:.0f} | {rate:.0f} | {first['p50']:.0f} | {first['p95']:.0f} | {first['p99']:.0f} | "
        f"{acked:.0f} | {after_first['stored']} | {lost} | {after_first['duplicates'] + after_second['duplicates']} | "
        f"{max(in_flight, 0)} | {second['requests']:.0f} ({second['acked']:.0f} answered), {after_second['stored'] - after_first['stored']} new rows | {first['other']:.0f} |"
    )


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("The submission load test needs wrk: apt-get install wrk")
    print(
        f"\n## Public submission load test ({SECONDS} s, wrk with {CONNECTIONS} connections, "
        f"gunicorn {WORKERS} processes x {THREADS} threads, loopback)\n"
    )
    print(
        "| Database | Submissions | Submissions/s | p50 ms | p95 ms | p99 ms | Acknowledged | Stored | Lost | Duplicated | In flight at cut-off | Repeat presses by people already stored | Errors |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    databases = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory() as tmp:
            env = env_for(Path(tmp), None)
            subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
            print(measure(env, "SQLite"), flush=True)
    pg = postgres_database() if "postgresql" in databases else None
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
