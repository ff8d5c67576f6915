"""A preview on SQLite runs on a private copy: it never takes the database's write lock, and writes nothing."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from needpool.accounts.models import Team
from needpool.core.models import BackgroundJob
from needpool.intake.transfer.imports import snapshot
from needpool.intake.transfer.services import IMPORT_PREVIEW, import_execute
from needpool.requirements.models import Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def file_database(tmp_path, monkeypatch):
    """The test database is in memory: hand the snapshot a file holding the same data, as a deployment has."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite write lock")
    name = str(connection.settings_dict["NAME"])
    path = tmp_path / "main.sqlite3"

    def as_file() -> str:
        with sqlite3.connect(name, uri=name.startswith("file:")) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return str(path)

    monkeypatch.setattr(snapshot, "_sqlite_file", as_file)
    return path


def test_the_preview_writes_to_a_copy_and_leaves_the_database_unlocked(users, file_database, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    with snapshot.private_database() as private:
        assert private
        Team.objects.create(name="只在副本里")
        assert Team.objects.filter(name="只在副本里").exists()
        # meanwhile the real database takes a writer at once (nobody holds its lock)
        name = str(connection.settings_dict["NAME"])
        other = sqlite3.connect(name, uri=name.startswith("file:"), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
        finally:
            other.close()
    assert not Team.objects.filter(name="只在副本里").exists()
    assert not list((tmp_path / "jobs").glob("preview-*"))  # the copy is deleted


def test_a_preview_job_reports_the_sheet_and_writes_nothing(users, file_database, settings, tmp_path, sheet):
    settings.DATA_DIR = tmp_path
    path = sheet([INTAKE_HEADERS, ["NEW001", "", "", "销售沟通", "功能", "复制库里的预览", "", "", ""]])
    stored = settings.MEDIA_ROOT / "imports" / "p.xlsx"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(path.read_bytes())
    job = BackgroundJob.objects.create(
        kind=IMPORT_PREVIEW, created_by=users["sales"], params={"file": "imports/p.xlsx", "layout": ""}
    )
    done = import_execute(job_id=job.pk)
    assert done is not None and done.status == BackgroundJob.Status.DONE, done.message if done else None
    result = done.params["result"]
    assert result["counts"]["create"] == 1, result["errors"]
    assert not Requirement.objects.filter(code="NEW001").exists()
