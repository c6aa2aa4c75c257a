"""Make the audit log append-only in the database itself, so that no code path
(raw SQL, a bulk update, a bug) can rewrite history."""

from __future__ import annotations

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER accounts_auditevent_no_update BEFORE UPDATE ON accounts_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER accounts_auditevent_no_delete BEFORE DELETE ON accounts_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_auditevent_no_update",
    "DROP TRIGGER IF EXISTS accounts_auditevent_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION accounts_auditevent_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER accounts_auditevent_append_only BEFORE UPDATE OR DELETE ON accounts_auditevent
       FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_refuse()""",
    """CREATE TRIGGER accounts_auditevent_no_truncate BEFORE TRUNCATE ON accounts_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION accounts_auditevent_refuse()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_auditevent_append_only ON accounts_auditevent",
    "DROP TRIGGER IF EXISTS accounts_auditevent_no_truncate ON accounts_auditevent",
    "DROP FUNCTION IF EXISTS accounts_auditevent_refuse()",
]


def _run(statements: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
