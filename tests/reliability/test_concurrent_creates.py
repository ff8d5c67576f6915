"""Several people creating at once against the real server: every acknowledged create is stored as it was sent
and the database file stays sound.

On SQLite before 3.51.3 (the WAL-reset bug) this lost acknowledged creates: an id answered 201 held another
create's title afterwards, some creates answered "disk I/O error", or the file failed ``PRAGMA integrity_check``
(four of nine 20-second runs of two clients with Debian 12's 3.40.1). Real processes: two gunicorn workers
(``needpool serve``) and the job worker (``needpool worker``), each with its own connections. Loopback only.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.reliability.harness import Installation, create_requirement

pytestmark = pytest.mark.slow  # real processes and a fresh database: ~20-30 s

CLIENTS = 4
SECONDS = 8

TOKEN = """
import json
from rest_framework.authtoken.models import Token
from needpool.accounts.models import User
user = User.objects.create_user(username="pm", password="many-hands-long-enough", role="product_manager")
print(json.dumps(Token.objects.create(user=user).key))
"""

SOUNDNESS = """
import json, sqlite3
from django.db import connection
from needpool.core.sqlite_library import has_wal_reset_bug
found = {"vendor": connection.vendor}
if connection.vendor == "sqlite":
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        found["integrity"] = [row[0] for row in cursor.fetchall()]
    found["library"] = connection.Database.sqlite_version
    found["bug"] = has_wal_reset_bug(connection.Database.sqlite_version_info)
print(json.dumps(found))
"""


@pytest.fixture
def installation(tmp_path):
    made = Installation(tmp_path, "creates", stale_seconds=60)
    yield made
    made.close()


def test_creates_from_several_clients_at_once_are_all_stored_as_sent_and_the_file_stays_sound(installation):
    inst = installation
    token = inst.python(TOKEN)
    inst.start("worker")
    _server, base = inst.serve(timeout=90)
    acknowledged: dict[int, str] = {}
    failures: list[str] = []
    lock = threading.Lock()
    until = time.monotonic() + SECONDS

    def client(n: int) -> None:
        i = 0
        while time.monotonic() < until:
            i += 1
            title = f"同时新建 {n}-{i}"
            try:
                made = create_requirement(base, token, {"title": title, "description": f"第 {n} 位同事的第 {i} 条需求"})
                with lock:
                    acknowledged[int(made["id"])] = title
            except (urllib.error.URLError, OSError, ValueError) as exc:
                with lock:
                    failures.append(f"{title}: {exc}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 60)

    assert failures == []
    assert len(acknowledged) >= CLIENTS  # the clients did write at once
    stored = dict(inst.sql("SELECT id, title FROM requirements_requirement WHERE title LIKE ?", ("同时新建%",)))
    assert {pk: stored.get(pk) for pk in acknowledged} == acknowledged  # each id holds the title it was sent with
    assert len(stored) == len(acknowledged)  # and nothing else was written
    found = inst.python(SOUNDNESS)
    if found["vendor"] == "sqlite":
        assert found["integrity"] == ["ok"]
        assert found["bug"] is False, found["library"]
