"""The `civicloop` command: demo, serve, worker, check and manage."""

from __future__ import annotations

import argparse
import io
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = "civicloop.settings"


def _data_dir() -> Path:
    return Path(os.environ.get("CIVICLOOP_DATA_DIR") or Path.cwd() / "var").resolve()


def _setup() -> None:
    """Load settings, turning a configuration mistake into one clear line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"civicloop: configuration problem: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _demo_environment() -> Path:
    """Settings for a local demo on http://127.0.0.1: SQLite in the data folder,
    console email, and a secret key and a credentials key generated once and kept
    beside the data."""
    data = _data_dir()
    data.mkdir(parents=True, exist_ok=True)
    os.environ["CIVICLOOP_DATA_DIR"] = str(data)
    key_file = data / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    if not os.environ.get("SECRET_KEY"):
        os.environ.setdefault("SECRET_KEY_FILE", str(key_file))
    credentials_file = data / "credentials_key"
    if not credentials_file.exists():
        from cryptography.fernet import Fernet

        credentials_file.write_text(Fernet.generate_key().decode(), encoding="utf-8")
        credentials_file.chmod(0o600)
    os.environ.setdefault(
        "CIVICLOOP_CREDENTIALS_KEY", credentials_file.read_text(encoding="utf-8").strip()
    )
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("CIVICLOOP_HTTPS", "false")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    return data


def cmd_demo(args: argparse.Namespace) -> int:
    _demo_environment()
    _setup()
    from django.core.management import call_command

    from civicloop.accounts.demo import DEMO_PASSWORD, demo_sign_ins

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("load_demo")
    call_command("load_demo_consultations")
    call_command("load_demo_analysis")
    call_command("load_demo_guidance")
    url = f"http://127.0.0.1:{args.port}/"
    print(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD})")
    for organisation, role, email in demo_sign_ins():
        print(f"  {email:34} {role:18} {organisation}")
    if args.no_serve:
        print("\nDemo database ready (--no-serve: not serving).")
        return 0
    return _serve_with_worker(url=url, port=args.port)


def _serve_with_worker(*, url: str, port: int) -> int:
    exe = [sys.executable, "-m", "civicloop.cli"]
    processes = [
        subprocess.Popen([*exe, "worker"]),  # noqa: S603 - our own interpreter and module
        subprocess.Popen([*exe, "serve", "--host", "127.0.0.1", "--port", str(port)]),  # noqa: S603
    ]
    print(
        f"\ncivicloop demo: {url}  (sign in at {url}sign-in/; Ctrl-C stops the server and worker)\n"
    )

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        code = next(p.returncode for p in processes if p.poll() is not None) or 1
        print("civicloop: a process stopped unexpectedly; stopping the rest.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping…")
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in processes:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()  # fail early, and readably, on bad settings
    workers = args.workers or int(os.environ.get("WEB_CONCURRENCY", "3"))
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "civicloop.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        "--forwarded-allow-ips",
        os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
    return 0  # pragma: no cover


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from civicloop.jobs.worker import run_worker

    run_worker(queues=args.queues, interval=args.interval, batch=args.batch)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    from civicloop.views import health_report

    failures = 0

    def line(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'}  {what}: {detail}")

    line(True, "settings", f"loaded (DEBUG={settings.DEBUG}, data in {settings.DATA_DIR})")
    try:
        call_command("check", fail_level="ERROR", stdout=io.StringIO(), stderr=io.StringIO())
        line(True, "system checks", "passed")
    except Exception as exc:
        line(False, "system checks", str(exc))
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        line(False, "database", f"cannot connect ({exc}); check DATABASE_URL")
        return 1
    vendor = connection.vendor
    line(True, "database", f"{vendor} reachable")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    line(
        not plan,
        "migrations",
        "all applied" if not plan else f"{len(plan)} not applied; run `civicloop manage migrate`",
    )
    if not plan:
        report, _ok = health_report()
        line(
            report["tasks"] == "ok",
            "task worker",
            report["tasks"] + ("" if report["tasks"] == "ok" else "; start `civicloop worker`"),
        )
    return 1 if failures else 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["civicloop manage", *args.rest])
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from civicloop_engine.cli import main as analyse_main

    return analyse_main(args.rest)


def cmd_guidance_check(args: argparse.Namespace) -> int:
    """Print the guidance findings for a draft post as JSON (exit 0 whatever the risk)."""
    import datetime as dt
    import json

    from civicloop.publishing import guidance

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        print(
            "civicloop guidance check: give the post's text (or - to read it from stdin).",
            file=sys.stderr,
        )
        return 2
    network = args.network.lower() if args.network else None
    if network and network not in guidance.NETWORK_LIMITS:
        print(
            f"civicloop guidance check: unknown network {args.network!r}; use one of "
            f"{', '.join(sorted(guidance.NETWORK_LIMITS))}.",
            file=sys.stderr,
        )
        return 2
    try:
        on = dt.date.fromisoformat(args.on) if args.on else None
    except ValueError:
        print(
            f"civicloop guidance check: --on {args.on!r} is not a date (YYYY-MM-DD).",
            file=sys.stderr,
        )
        return 2
    policy = guidance.Policy()
    if args.organisation:
        _setup()
        from civicloop.accounts.models import Organisation
        from civicloop.publishing.selectors import policy_for

        organisation = Organisation.objects.filter(slug=args.organisation).first()
        if organisation is None:
            print(
                f"civicloop guidance check: no organisation with slug {args.organisation!r}.",
                file=sys.stderr,
            )
            return 2
        policy = policy_for(organisation)
    images = tuple(guidance.Image(alt) for alt in args.image_alt) + tuple(
        guidance.Image(None) for _ in range(args.image_without_alt)
    )
    report = guidance.check(guidance.Draft(text, network=network, images=images, on=on), policy)
    print(json.dumps(report.as_json(include_passes=args.all), ensure_ascii=False, indent=2))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _setup()
    from civicloop.accounts.models import Organisation
    from civicloop.consultations.services import api_token_create

    organisation = Organisation.objects.filter(slug=args.organisation).first()
    if organisation is None:
        print(f"civicloop token: no organisation with slug {args.organisation!r}.", file=sys.stderr)
        return 2
    token = api_token_create(organisation=organisation, name=args.name)
    print(token)
    print(
        f"(API token {args.name!r} for {organisation.name}; it is shown only once.)",
        file=sys.stderr,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicloop",
        description="civicloop: publish, listen, consult, understand and report back.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="prepare the demo database and serve it with a worker")
    demo.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    demo.add_argument("--no-serve", action="store_true", help="prepare the database, do not serve")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the production web server (gunicorn + whitenoise)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")  # noqa: S104
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=0, help="processes (default $WEB_CONCURRENCY or 3)"
    )
    serve.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a background task worker")
    worker.add_argument(
        "--queues", default="default", help="comma-separated queues (default: default)"
    )
    worker.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls when idle"
    )
    worker.add_argument(
        "--batch", action="store_true", help="exit once the queue is empty (for cron or tests)"
    )
    worker.set_defaults(func=cmd_worker)

    check = sub.add_parser(
        "check", help="check settings, database, migrations and that a worker was seen recently"
    )
    check.set_defaults(func=cmd_check)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create a token and print it (shown once)")
    create.add_argument("--organisation", required=True, help="organisation slug")
    create.add_argument("--name", required=True, help="what the token is for")
    create.set_defaults(func=cmd_token)

    guidance_parser = sub.add_parser("guidance", help="check posts against the guidance rules")
    guidance_sub = guidance_parser.add_subparsers(
        dest="guidance_command", required=True, metavar="ACTION"
    )
    check_post = guidance_sub.add_parser(
        "check", help="print a draft post's findings as JSON, with an overall risk"
    )
    check_post.add_argument("text", help="the post's text, or - to read it from stdin")
    check_post.add_argument("--organisation", help="apply this organisation's settings (slug)")
    check_post.add_argument(
        "--network", help="bluesky, mastodon, x, facebook, instagram, linkedin or email"
    )
    check_post.add_argument(
        "--image-alt",
        action="append",
        default=[],
        metavar="TEXT",
        help="an image with this alt text",
    )
    check_post.add_argument(
        "--image-without-alt", action="count", default=0, help="an image with no alt text"
    )
    check_post.add_argument("--on", help="publish date, YYYY-MM-DD (default today)")
    check_post.add_argument("--all", action="store_true", help="list the rules that passed too")
    check_post.set_defaults(func=cmd_guidance_check)

    analyse = sub.add_parser(
        "analyse", help="analyse a CSV/XLSX/JSONL file of responses offline", add_help=False
    )
    analyse.add_argument("rest", nargs=argparse.REMAINDER)
    analyse.set_defaults(func=cmd_analyse)

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
