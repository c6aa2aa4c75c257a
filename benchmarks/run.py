"""civicloop benchmarks (`make bench`). Bounded in count and time, loopback only.

1. Demo preparation: `civicloop demo --no-serve` on an empty data folder, then again
   (the reuse path).
2. Page serving through the production server (gunicorn + whitenoise) on SQLite, and on
   PostgreSQL when one answers at BENCH_DATABASE_URL (default: the local server): requests/s and
   p50/p95/p99 latency for the health check, a public organisation page and the sign-in page.

Prints Markdown tables for docs/benchmarks.md."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REQUESTS = 600  # per path
CONCURRENCY = 8
PATHS = ["/healthz", "/o/ashworth/", "/sign-in/"]
CLI = [sys.executable, "-m", "civicloop.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(data: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env["CIVICLOOP_DATA_DIR"] = str(data)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def wait_until_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def hammer(base: str, path: str) -> dict[str, float]:
    def one(_: int) -> tuple[float, int]:
        start = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=10) as r:
            r.read()
            return time.perf_counter() - start, r.status

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(one, range(REQUESTS)))
    wall = time.perf_counter() - start
    latencies = sorted(r[0] * 1000 for r in results)
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": REQUESTS / wall,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "errors": sum(1 for r in results if r[1] != 200),
    }


def serve_and_measure(env: dict[str, str], label: str) -> list[str]:
    port = free_port()
    env = {
        **env,
        "SECRET_KEY_FILE": str(Path(env["CIVICLOOP_DATA_DIR"]) / "secret_key"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CIVICLOOP_HTTPS": "false",
    }
    worker = subprocess.Popen(
        [*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/sign-in/", time.monotonic() + 60)
        time.sleep(1)
        for path in PATHS:
            hammer(base, path)  # warm up
            r = hammer(base, path)
            rows.append(
                f"| {label} | `{path}` | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                f"{r['p99']:.1f} | {r['errors']:.0f} |"
            )
    finally:
        for p in (server, worker):
            p.terminate()
            p.wait(timeout=20)
    return rows


def postgres_database() -> tuple[str, str] | None:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        name = f"civicloop_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return url, url.rsplit("/", 1)[0] + "/" + name
    except Exception:
        return None


def drop(admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    print(
        f"# civicloop benchmarks, {dt.date.today()} on {platform.node()} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()})\n"
    )
    print("## Demo preparation (`civicloop demo --no-serve`)\n")
    print("| Run | Seconds |\n| --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(Path(tmp), None)
        first = timed([*CLI, "demo", "--no-serve"], env)
        print(f"| first (migrate, collectstatic, demo data) | {first:.1f} |")
        print(f"| second (everything reused) | {timed([*CLI, 'demo', '--no-serve'], env):.1f} |")
        print(
            f"\n## Serving ({REQUESTS} requests per path, {CONCURRENCY} concurrent clients, "
            "gunicorn 3 processes x 4 threads, loopback)\n"
        )
        print("| Database | Path | Requests/s | p50 ms | p95 ms | p99 ms | Errors |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for row in serve_and_measure(env, "SQLite"):
            print(row, flush=True)
    pg = postgres_database()
    if pg:
        admin, url = pg
        try:
            with tempfile.TemporaryDirectory() as tmp:
                env = env_for(Path(tmp), url)
                subprocess.run(
                    [*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True
                )
                for row in serve_and_measure(env, "PostgreSQL"):
                    print(row, flush=True)
        finally:
            drop(admin, url)


if __name__ == "__main__":
    main()
