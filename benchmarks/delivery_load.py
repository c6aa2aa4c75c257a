"""Delivery under load with real workers (`make bench`): exactly once, and how it scales.

For each database (SQLite, and PostgreSQL when one answers) and each number of workers:

1. a fresh demo database, and a Mastodon-like server on loopback that honours
   Idempotency-Key for an hour as Mastodon does, answers after LATENCY seconds, and
   for DROP_EVERY-th new status drops the connection after making it (the reply is
   lost: civicloop must mark the delivery unconfirmed, never post again blindly);
2. POSTS low-risk posts submitted by an officer (no sign-off needed), each delivery
   task queued twice (a duplicated task);
3. WORKERS `civicloop worker` processes deliver them; one is killed with SIGKILL
   part-way (a worker restart) and replaced;
4. what is left unconfirmed — lost replies, and the killed worker's claim once it is
   stale — is retried as a person would ("Check and retry");
5. the server is counted: every post exactly once.

Prints a Markdown table for docs/benchmarks.md. The figure that matters is the ratio of
throughput with three workers to one, and "posted twice" (must be 0)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from run import drop, env_for, postgres_database

ROOT = Path(__file__).resolve().parent.parent
POSTS = int(os.environ.get("BENCH_POSTS", "300"))
LATENCY = float(os.environ.get("BENCH_LATENCY", "0.05"))
DROP_EVERY = 20
CLI = [sys.executable, "-m", "civicloop.cli"]


class Mastodon(BaseHTTPRequestHandler):
    statuses: list[dict[str, str]] = []
    keys: dict[str, dict[str, str]] = {}
    posts_received = 0
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: object, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/accounts/verify_credentials"):
            self._send({"id": "1", "acct": "bench", "url": "http://127.0.0.1/@bench"})
        elif self.path.startswith("/api/v1/accounts/1/statuses"):
            query = parse_qs(urlsplit(self.path).query)
            before = int(query.get("max_id", ["0"])[0]) or None
            with self.lock:
                older = [x for x in self.statuses if before is None or int(x["id"]) < before]
            self._send(list(reversed(older[-40:])))  # newest first, 40 a page
        else:
            self._send({"error": "not found"}, 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        time.sleep(LATENCY)
        key = self.headers.get("Idempotency-Key", "")
        with self.lock:
            type(self).posts_received += 1
            if key in self.keys:
                status, new = self.keys[key], False
            else:
                number = len(self.statuses) + 1
                status = {
                    "id": str(number),
                    "url": f"http://127.0.0.1/@bench/{number}",
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "content": f"<p>{body.get('status', '')}</p>",
                }
                self.statuses.append(status)
                self.keys[key] = status
                new = True
        if new and int(status["id"]) % DROP_EVERY == 0:
            self.connection.shutdown(2)  # made, but the reply is lost
            return
        self._send(status)


PREPARE = """
import django, os, sys; django.setup()
from civicloop.accounts.models import Membership
from civicloop.channels import services as channels
from civicloop.channels.models import Delivery
from civicloop.channels.tasks import deliver
from civicloop.publishing import services as publishing
from django_tasks_db.models import DBTaskResult
DBTaskResult.objects.all().delete()  # the demo's queued analyses are not measured here
officer = Membership.objects.get(user__email="officer@ashworth.example", organisation__slug="ashworth")
manager = Membership.objects.get(user__email="manager@ashworth.example", organisation__slug="ashworth")
channels.channel_connect(actor_membership=manager, network="mastodon",
    credentials={"server": sys.argv[1], "access_token": "bench"})
for n in range(int(sys.argv[2])):
    post = publishing.post_save(actor_membership=officer,
        text=f"Bins for street {n} go out on Tuesday.", networks=["mastodon"])
    publishing.post_submit(actor_membership=officer, post=post)
for d in Delivery.objects.all():
    deliver.enqueue(d.pk)  # every task twice
print(Delivery.objects.count())
"""

STATE = """
import django, json; django.setup()
from collections import Counter
from civicloop.channels.models import Delivery
print(json.dumps(Counter(Delivery.objects.values_list("status", flat=True))))
"""

RETRY = """
import django, datetime as dt; django.setup()
from django.utils import timezone
from civicloop.accounts.models import User
from civicloop.channels import services
from civicloop.channels.models import Delivery
person = User.objects.get(email="officer@ashworth.example")
stale = Delivery.objects.filter(status="publishing")  # the killed worker's claims
stale.update(claimed_at=timezone.now() - services.STALE_PUBLISHING - dt.timedelta(seconds=1))
services.deliveries_mark_stale()
for d in Delivery.objects.filter(status="unconfirmed").select_related("channel"):
    services.delivery_retry(actor=person, delivery=d)
"""


def python(code: str, env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return out.stdout.strip()


def state(env: dict[str, str]) -> dict[str, int]:
    return dict(json.loads(python(STATE, env)))


def workers(n: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [*CLI, "worker", "--interval", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]


def wait_settled(env: dict[str, str], deadline: float) -> dict[str, int]:
    while time.monotonic() < deadline:
        counts = state(env)
        if not counts.get("pending"):
            return counts
        time.sleep(0.5)
    return state(env)


def one_run(label: str, database_url: str | None, count: int) -> dict[str, object]:
    Mastodon.statuses, Mastodon.keys, Mastodon.posts_received = [], {}, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Mastodon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(Path(tmp), database_url)
        env["PYTHONPATH"] = str(ROOT)
        subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        env.update(
            SECRET_KEY_FILE=str(Path(tmp) / "secret_key"),
            CIVICLOOP_CREDENTIALS_KEY=(Path(tmp) / "credentials_key").read_text().strip(),
            ALLOWED_HOSTS="127.0.0.1",
            CIVICLOOP_HTTPS="false",
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
            DJANGO_SETTINGS_MODULE="civicloop.settings",
            CIVICLOOP_ALLOW_PRIVATE_SERVERS="true",  # the Mastodon-like server is on loopback
        )
        deliveries = int(python(PREPARE, env, url, str(POSTS)))
        start = time.perf_counter()
        running = workers(count, env)
        killed = False
        if count > 1:
            time.sleep(2)
            running[0].send_signal(signal.SIGKILL)  # a worker dies mid-run
            running[0].wait()
            running[0:1] = workers(1, env)
            killed = True
        counts = wait_settled(env, time.monotonic() + 600)
        first_pass = time.perf_counter() - start
        unconfirmed = counts.get("unconfirmed", 0) + counts.get("publishing", 0)
        python(RETRY, env)
        counts = wait_settled(env, time.monotonic() + 300)
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            process.wait(timeout=30)
    server.shutdown()
    texts = [s["content"] for s in Mastodon.statuses]
    return {
        "label": label,
        "workers": count,
        "killed": killed,
        "deliveries": deliveries,
        "seconds": first_pass,
        "per_second": deliveries / first_pass,
        "unconfirmed": unconfirmed,
        "published": counts.get("published", 0),
        "on_server": len(Mastodon.statuses),
        "twice": len(texts) - len(set(texts)),
        "posts_received": Mastodon.posts_received,
    }


def main() -> None:
    runs = []
    databases: list[tuple[str, str | None, str | None]] = [("SQLite", None, None)]
    pg = postgres_database()
    if pg:
        databases.append(("PostgreSQL", pg[1], pg[0]))
    try:
        for label, url, _admin in databases:
            for count in (1, 3):
                if url and count == 3 and pg:  # a fresh database per run
                    drop(pg[0], url)
                    fresh = postgres_database()
                    url = fresh[1] if fresh else url
                runs.append(one_run(label, url, count))
                print(json.dumps(runs[-1]), file=sys.stderr)
    finally:
        if pg:
            drop(pg[0], url or pg[1])
    print(
        f"\n## Delivery with real workers ({POSTS} posts, every task queued twice, "
        f"{LATENCY * 1000:.0f} ms network, every {DROP_EVERY}th reply lost)\n"
    )
    print(
        "| Database | Workers | Worker killed | Seconds | Deliveries/s | Unconfirmed, then retried "
        "| Published | Status POSTs received | Statuses on server | Posted twice |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in runs:
        print(
            f"| {r['label']} | {r['workers']} | {'yes' if r['killed'] else 'no'} | {r['seconds']:.1f} "
            f"| {r['per_second']:.1f} | {r['unconfirmed']} | {r['published']} of {r['deliveries']} "
            f"| {r['posts_received']} | {r['on_server']} | {r['twice']} |"
        )
    for label in {r["label"] for r in runs}:
        one, three = (r for r in runs if r["label"] == label)
        print(
            f"\n{label}: three workers deliver {float(three['per_second']) / float(one['per_second']):.2f}× "
            "as fast as one."
        )


if __name__ == "__main__":
    main()
