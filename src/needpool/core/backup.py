"""Backup and restore of a whole site: the database, the attachments and the data files, in one archive.

``needpool backup`` writes a tar.gz holding

- ``manifest.json``: format, product version, database engine, when it was made, and the SHA-256 of every
  other member;
- ``database/db.sqlite3`` (SQLite, copied through the online backup API while the site keeps running: one
  consistent snapshot, writers are not blocked in WAL mode) or ``database/db.dump`` (PostgreSQL, ``pg_dump``
  in its custom format, itself one consistent snapshot);
- ``media/…``: every file under ``MEDIA_ROOT`` (requirement attachments, portal uploads, stored import
  sheets). The database is copied first and the files after: files are saved before the row that names
  them is committed and are never deleted, so every row of the snapshot finds its file;
- ``data/secret_key``: the generated secret key, when the site uses one (signed links and sessions).

Left out on purpose: ``staticfiles/`` (rebuilt by collectstatic), the job queue (``jobs.sqlite3`` or Redis:
a restored queue would re-run jobs against restored rows; a job that was running shows as interrupted and
can be retried from its page), ``jobs/`` progress and heartbeat files, and earlier backups.

``needpool restore`` checks the archive completely before it changes anything (engine, member list,
checksums, member names), then overwrites the database (SQLite through the backup API into the live
database file; PostgreSQL with ``pg_restore --clean --if-exists``), replaces ``MEDIA_ROOT`` and the
secret key file. ``DATA_DIR/cache`` (files derived from the rows, rebuilt on demand) is emptied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

import needpool

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/db.sqlite3"
PG_MEMBER = "database/db.dump"
MEDIA_PREFIX = "media/"
SECRET_MEMBER = "data/secret_key"  # noqa: S105 - a member name, not a secret
PG_DUMP = os.environ.get("NEEDPOOL_PG_DUMP", "/usr/bin/pg_dump")
PG_RESTORE = os.environ.get("NEEDPOOL_PG_RESTORE", "/usr/bin/pg_restore")


class BackupError(Exception):
    """A backup or restore refused or failed; the message is for the user (Chinese by default)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def engine_name() -> str:
    """'sqlite' or 'postgresql': the engine of the configured database."""
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("不支持备份该数据库类型：%(vendor)s。") % {"vendor": vendor})
    return vendor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    """libpq settings of the configured database (the password through the environment, never argv)."""
    conf = connection.settings_dict
    env = dict(os.environ)
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = str(conf["PASSWORD"])
    args: list[str] = []
    if conf.get("HOST"):
        args += ["--host", str(conf["HOST"])]
    if conf.get("PORT"):
        args += ["--port", str(conf["PORT"])]
    if conf.get("USER"):
        args += ["--username", str(conf["USER"])]
    return env, [*args, "--dbname", str(conf["NAME"])]


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise BackupError(_("无法运行 %(what)s：%(error)s") % {"what": what, "error": exc}) from exc
    if done.returncode != 0:
        raise BackupError(_("%(what)s 失败：%(error)s") % {"what": what, "error": done.stderr.strip()[-2000:]})


def _dump_database(engine: str, into: Path) -> Path:
    if engine == "sqlite":
        target = into / "db.sqlite3"
        connection.ensure_connection()
        source = connection.connection
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)  # one consistent snapshot; other writers go on (WAL)
        finally:
            copy.close()
        return target
    target = into / "db.dump"
    env, args = _pg_env_and_args()
    _run([PG_DUMP, "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), *args], env, "pg_dump")
    return target


def _media_files() -> Iterator[tuple[Path, str]]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, MEDIA_PREFIX + path.relative_to(root).as_posix()


def default_output() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"needpool-{stamp}.tar.gz"


def backup_create(*, output: Path | None = None) -> BackupResult:
    """Write the archive (see the module docstring); returns its path and manifest."""
    engine = engine_name()
    path = Path(output) if output else default_output()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="needpool-backup-") as tmp:
        members: list[tuple[Path, str]] = []
        dump = _dump_database(engine, Path(tmp))
        members.append((dump, SQLITE_MEMBER if engine == "sqlite" else PG_MEMBER))
        members.extend(_media_files())
        secret = Path(settings.DATA_DIR) / "secret_key"
        if secret.is_file():
            members.append((secret, SECRET_MEMBER))
        manifest = {
            "format": FORMAT,
            "version": needpool.__version__,
            "engine": engine,
            "created_at": timezone.now().isoformat(),
            "files": {name: {"sha256": _sha256(file), "size": file.stat().st_size} for file, name in members},
        }
        manifest_path = Path(tmp) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        partial = path.with_name(path.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(manifest_path, arcname=MANIFEST)
            for file, name in members:
                archive.add(file, arcname=name, recursive=False)
        partial.replace(path)  # a half-written archive never carries the final name
    path.chmod(0o600)
    return BackupResult(path=path, manifest=manifest)


# ---------------------------------------------------------------- restore


def _safe_member_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return not pure.is_absolute() and ".." not in pure.parts and name == pure.as_posix()


@contextmanager
def checked_archive(path: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """Open and check an archive completely (manifest, engine, members, checksums); yields the manifest and
    the folder it was unpacked into. Nothing of the site is touched here."""
    if not Path(path).is_file():
        raise BackupError(_("找不到备份文件：%(path)s") % {"path": path})
    with tempfile.TemporaryDirectory(prefix="needpool-restore-") as tmp:
        root = Path(tmp)
        try:
            with tarfile.open(path, "r:gz") as archive:
                members = archive.getmembers()
                for member in members:
                    if not (member.isfile() and _safe_member_name(member.name)):
                        raise BackupError(_("备份文件包含不允许的条目：%(name)s") % {"name": member.name})
                archive.extractall(root, members=members, filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(_("备份文件已损坏或不是需求池备份：%(error)s") % {"error": exc}) from exc
        try:
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
            files: dict[str, Any] = manifest["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(_("备份文件缺少有效的清单（manifest.json）。")) from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(_("不支持的备份格式版本：%(format)s。") % {"format": manifest.get("format")})
        engine = engine_name()
        if manifest.get("engine") != engine:
            raise BackupError(
                _("该备份来自 %(theirs)s 数据库，当前站点使用 %(ours)s：不能跨数据库类型恢复。")
                % {"theirs": manifest.get("engine"), "ours": engine}
            )
        present = {m.name for m in members} - {MANIFEST}
        if present != set(files):
            raise BackupError(_("备份文件的内容与清单不符（有文件缺失或多出），已拒绝恢复。"))
        for name, meta in files.items():
            if _sha256(root / name) != meta.get("sha256"):
                raise BackupError(
                    _("校验失败：%(name)s 的校验和与清单不符，备份文件可能已损坏或被改动。") % {"name": name}
                )
        database = SQLITE_MEMBER if engine == "sqlite" else PG_MEMBER
        if database not in files:
            raise BackupError(_("备份文件中没有数据库。"))
        yield manifest, root


def _restore_database(engine: str, dump: Path) -> None:
    if engine == "sqlite":
        source = sqlite3.connect(dump)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)  # into the live database: other connections see the result
        finally:
            source.close()
        return
    connection.close()  # no open transaction of ours may hold a lock on the tables pg_restore drops
    env, args = _pg_env_and_args()
    _run(
        [
            PG_RESTORE,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            *args,
            str(dump),
        ],
        env,
        "pg_restore",
    )


def _replace_media(unpacked: Path) -> None:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    for child in list(root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    source = unpacked / MEDIA_PREFIX.rstrip("/")
    if source.is_dir():
        shutil.copytree(source, root, dirs_exist_ok=True)


def backup_restore(*, path: Path) -> dict[str, Any]:
    """Check the archive, then overwrite the database, the media folder and the secret key from it."""
    with checked_archive(path) as (manifest, root):
        engine = str(manifest["engine"])
        _restore_database(engine, root / (SQLITE_MEMBER if engine == "sqlite" else PG_MEMBER))
        _replace_media(root)
        # What processes derived from the old rows (e.g. the duplicate index's snapshot) no longer holds.
        shutil.rmtree(Path(settings.DATA_DIR) / "cache", ignore_errors=True)
        secret = root / SECRET_MEMBER
        if secret.is_file():
            target = Path(settings.DATA_DIR) / "secret_key"
            shutil.copyfile(secret, target)
            target.chmod(0o600)
        return manifest


def describe(manifest: dict[str, Any]) -> str:
    files = manifest.get("files", {})
    media = sum(1 for name in files if name.startswith(MEDIA_PREFIX))
    created = manifest.get("created_at", "")
    with suppress(TypeError, ValueError):
        created = timezone.localtime(dt.datetime.fromisoformat(created)).strftime("%Y-%m-%d %H:%M:%S")
    return _("数据库：%(engine)s；附件：%(media)s 个；创建于 %(created)s；版本 %(version)s") % {
        "engine": manifest.get("engine"),
        "media": media,
        "created": created,
        "version": manifest.get("version"),
    }
