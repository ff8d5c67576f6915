from django.db import migrations

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS requirements_fts USING fts5("
    "search_text, content='requirements_requirement', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS requirements_fts_ai AFTER INSERT ON requirements_requirement BEGIN "
    "INSERT INTO requirements_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS requirements_fts_ad AFTER DELETE ON requirements_requirement BEGIN "
    "INSERT INTO requirements_fts(requirements_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS requirements_fts_au AFTER UPDATE OF search_text ON requirements_requirement BEGIN "
    "INSERT INTO requirements_fts(requirements_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO requirements_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS requirements_fts_au",
    "DROP TRIGGER IF EXISTS requirements_fts_ad",
    "DROP TRIGGER IF EXISTS requirements_fts_ai",
    "DROP TABLE IF EXISTS requirements_fts",
]
POSTGRES_FTS = [
    "CREATE INDEX IF NOT EXISTS requirement_search_gin ON requirements_requirement "
    "USING GIN (to_tsvector('simple', search_text))",
]
POSTGRES_FTS_DROP = ["DROP INDEX IF EXISTS requirement_search_gin"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def seed_defaults(apps, schema_editor):
    from needpool.requirements.defaults import seed

    seed(
        apps.get_model("requirements", "ClassOption"),
        apps.get_model("requirements", "Workflow"),
        apps.get_model("requirements", "WorkflowStatus"),
        apps.get_model("requirements", "WorkflowTransition"),
    )


class Migration(migrations.Migration):
    dependencies = [("requirements", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}),
            _run({"sqlite": SQLITE_FTS_DROP, "postgresql": POSTGRES_FTS_DROP}),
        ),
        migrations.RunPython(seed_defaults, migrations.RunPython.noop),
    ]
