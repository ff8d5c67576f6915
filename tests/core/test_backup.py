"""``needpool backup`` / ``needpool restore``: a round trip gives back the same rows and the same attachment bytes
(SQLite through the online backup API, PostgreSQL through pg_dump / pg_restore on the configured database), and a
restore refuses another engine, a bad checksum, a tampered member list, or a missing --yes — changing nothing.

Management commands touch the real database connection (pg_restore from another process), so these tests run
outside a wrapping transaction and reload the seeded rows afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from needpool.cli import main
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.services import contact_create, customer_create, customer_update
from needpool.requirements.models import Attachment, Feedback, Requirement
from needpool.requirements.services import attachment_add, feedback_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ENGINE = connection.vendor


def tables() -> dict[str, Any]:
    """The main tables, row by row, and every attachment's bytes."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.order_by("pk").values()),
        "interactions": list(Interaction.objects.order_by("pk").values()),
        "requirements": list(Requirement.objects.order_by("pk").values()),
        "feedback": list(Feedback.objects.order_by("pk").values()),
        "attachments": [
            (a.pk, a.requirement_id, a.name, a.file.name, Path(a.file.path).read_bytes())
            for a in Attachment.objects.order_by("pk")
        ],
    }


@pytest.fixture
def site(users, customer, requirement) -> dict[str, Any]:
    """Customers, contacts, a requirement with two attachments (one binary), feedback."""
    other = customer_create(actor=users["sales"], name="B制造集团", industry="制造", yearly_purchase=800_000)
    contact_create(actor=users["sales"], customer=other, name="李工", title="IT 经理", phone="021-62345678")
    attachment_add(
        actor=users["sales"],
        requirement=requirement,
        upload=SimpleUploadedFile("方案.txt", "批量折扣方案\n".encode(), content_type="text/plain"),
    )
    attachment_add(
        actor=users["sales"],
        requirement=requirement,
        upload=SimpleUploadedFile("截图.png", bytes(range(256)) * 40, content_type="image/png"),
    )
    feedback_create(actor=users["sales"], raw_text="希望支持批量折扣", channel="sales", customer=customer)
    return {"customer": customer, "other": other, "requirement": requirement}


def test_round_trip_gives_back_the_same_rows_and_files(site, users, tmp_path, capsys):
    archive = tmp_path / "site.tar.gz"
    call_command("np_backup", output=str(archive))
    assert "备份完成" in capsys.readouterr().out
    before = tables()

    # Change, add and delete after the backup: rows and files.
    customer_update(actor=users["sales"], customer=site["customer"], name="改名后的公司")
    customer_create(actor=users["sales"], name="备份之后新建的客户")
    Contact.objects.filter(customer=site["other"]).delete()
    gone = Attachment.objects.order_by("pk").first()
    Path(gone.file.path).write_bytes(b"overwritten")
    Attachment.objects.order_by("pk").last().delete()
    stray = Path(gone.file.path).parent / "stray.txt"
    stray.write_text("written after the backup")
    derived = Path(settings.DATA_DIR) / "cache" / "dedup" / "derived-from-the-rows"
    derived.parent.mkdir(parents=True, exist_ok=True)
    derived.write_text("an index snapshot of the rows before the restore")
    assert tables() != before

    call_command("np_restore", str(archive), yes=True)

    assert tables() == before
    assert not stray.exists()  # the media folder is the archive's, nothing else
    assert not derived.exists()  # nor may anything derived from the replaced rows survive
    assert not Customer.objects.filter(name="备份之后新建的客户").exists()


def test_the_archive_carries_a_manifest_with_checksums(site, tmp_path):
    archive = tmp_path / "site.tar.gz"
    call_command("np_backup", output=str(archive))
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
        for name, meta in manifest["files"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == meta["sha256"]
    assert manifest["engine"] == ENGINE and manifest["format"] == 1 and manifest["version"] and manifest["created_at"]
    assert names == {"manifest.json", *manifest["files"]}
    assert ("database/db.sqlite3" if ENGINE == "sqlite" else "database/db.dump") in names
    assert sum(name.startswith("media/") for name in names) == 2
    assert not any(name.startswith(("jobs", "staticfiles", "backups")) for name in names)


def test_the_needpool_command_knows_backup_and_restore(site, tmp_path, capsys):
    archive = tmp_path / "cli.tar.gz"
    main(["backup", "--output", str(archive)])
    assert "备份完成" in capsys.readouterr().out and tarfile.is_tarfile(archive)
    with pytest.raises(SystemExit):
        main(["restore", "--help"])
    assert "--yes" in capsys.readouterr().out


# ---------------------------------------------------------------- refusals: nothing changes


def _rewrite(archive: Path, target: Path, change) -> Path:
    """Copy an archive with its members passed through ``change(members: dict[name, bytes])``."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    change(members)
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def _manifest(members: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(members["manifest.json"])


@pytest.fixture
def changed_after_backup(site, users, tmp_path) -> tuple[Path, dict[str, Any]]:
    archive = tmp_path / "good.tar.gz"
    call_command("np_backup", output=str(archive))
    customer_update(actor=users["sales"], customer=site["customer"], name="备份之后的名字")
    return archive, tables()


def _refused(path: Path, expected: str, now: dict[str, Any], **options: Any) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("np_restore", str(path), **{"yes": True, **options})
    assert expected in str(caught.value)
    assert tables() == now


def test_restore_refuses_an_archive_of_another_engine(changed_after_backup, tmp_path):
    archive, now = changed_after_backup

    def other_engine(members):
        manifest = _manifest(members)
        manifest["engine"] = "postgresql" if ENGINE == "sqlite" else "sqlite"
        members["manifest.json"] = json.dumps(manifest).encode()

    _refused(_rewrite(archive, tmp_path / "other.tar.gz", other_engine), "不能跨数据库类型恢复", now)


def test_restore_refuses_a_bad_checksum(changed_after_backup, tmp_path):
    archive, now = changed_after_backup

    def tamper(members):
        name = next(n for n in members if n.startswith("media/"))
        members[name] = b"tampered"

    _refused(_rewrite(archive, tmp_path / "bad.tar.gz", tamper), "校验失败", now)


def test_restore_refuses_missing_or_extra_members(changed_after_backup, tmp_path):
    archive, now = changed_after_backup

    def drop(members):
        del members[next(n for n in members if n.startswith("media/"))]

    def add(members):
        members["media/extra.txt"] = b"not in the manifest"

    _refused(_rewrite(archive, tmp_path / "drop.tar.gz", drop), "与清单不符", now)
    _refused(_rewrite(archive, tmp_path / "add.tar.gz", add), "与清单不符", now)


def test_restore_refuses_members_outside_the_archive_folder(changed_after_backup, tmp_path):
    archive, now = changed_after_backup

    def escape(members):
        manifest = _manifest(members)
        manifest["files"]["../evil.txt"] = {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}
        members["manifest.json"] = json.dumps(manifest).encode()
        members["../evil.txt"] = b"x"

    _refused(_rewrite(archive, tmp_path / "escape.tar.gz", escape), "不允许的条目", now)
    assert not (tmp_path / "evil.txt").exists()


def test_restore_refuses_garbage_and_missing_files(changed_after_backup, tmp_path):
    _archive, now = changed_after_backup
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive at all")
    _refused(garbage, "已损坏", now)
    _refused(tmp_path / "nowhere.tar.gz", "找不到备份文件", now)


def test_restore_without_yes_asks_and_changes_nothing(changed_after_backup, monkeypatch):
    archive, now = changed_after_backup
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))  # not a terminal: refused without asking
    _refused(archive, "--yes", now, yes=False)


def test_restore_at_a_terminal_proceeds_only_on_yes(changed_after_backup, monkeypatch):
    archive, now = changed_after_backup

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    _refused(archive, "--yes", now, yes=False)
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    call_command("np_restore", str(archive))
    assert tables() != now
    assert Customer.objects.filter(name="A科技公司").exists()
