"""While a big import runs, everyone else keeps writing: no 503, no 500, no "database is locked".

Real processes on a throw-away installation: a Huey worker runs the import, a gunicorn server takes creates
over the API the whole time. On SQLite the import works on a private copy and switches its rows in with one
short transaction (``intake.transfer.imports.staging``); before that, every create waited 20 s for the import's
write lock and then failed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.reliability.harness import Installation, wait_for
from tests.reliability.test_kill import _imported, _status

pytestmark = pytest.mark.slow

ROWS = 1200

SETUP = f"""
import json
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.authtoken.models import Token
from needpool.accounts.models import User
from needpool.core.config import site_config
from needpool.core.models import BackgroundJob
from needpool.customers.services import customer_create
from needpool.intake.transfer.imports.layouts import INTAKE
user = User.objects.create_user(username="pm", password="import-lock-long-enough", role="product_manager")
site_config()
customer_create(actor=user, name="并发测试客户")
lines = [",".join(INTAKE.headers("zh-hans"))]
for i in range({ROWS}):
    lines.append(f"KIL{{i:05d}},并发测试客户,,销售沟通,功能,客户希望导出第 {{i}} 号报表并按部门细分权限,,,")
stored = default_storage.save("imports/lock.csv", ContentFile("\\n".join(lines).encode("utf-8")))
job = BackgroundJob.objects.create(
    kind="import_run", created_by=user, total={ROWS},
    params={{"file": stored, "filename": "lock.csv", "layout": "intake", "options": {{}}, "language": "zh-hans"}},
)
print(json.dumps([job.pk, Token.objects.create(user=user).key]))
"""

QUEUE = """
import json
from needpool.intake.transfer.tasks import import_run_job
import_run_job({job})
print(json.dumps(True))
"""


@pytest.fixture
def installation(tmp_path, request):
    # Recovery of dead jobs is the kill tests' subject; here a job must only run, so a stall of its heartbeat
    # under a loaded machine must not read as a dead worker.
    made = Installation(tmp_path, request.node.name[:20].replace("[", "_").replace("]", "").lower(), stale_seconds=60)
    yield made
    made.close()


def test_creates_go_on_while_a_big_import_runs_and_the_import_lands_whole(installation):
    inst = installation
    job, token = inst.python(SETUP)
    _server, base = inst.serve()
    inst.start("worker")
    inst.python(QUEUE.format(job=job))
    wait_for(lambda: _status(inst, job) != "queued" and _status(inst, job), timeout=90, what="the import to start")

    answers: list[int] = []
    during = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        running = _status(inst, job) == "running"
        body = json.dumps({"title": f"导入期间新建 {len(answers)}", "type": "function", "feedback_text": "客户原话"})
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{base}/api/v1/requirements/",
            data=body.encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                answers.append(response.status)
        except urllib.error.HTTPError as exc:
            answers.append(exc.code)
        if running and _status(inst, job) == "running":
            during += 1  # this create started and ended while the import was running
        if not running and _status(inst, job) in ("done", "failed"):
            break
        time.sleep(0.05)

    assert _status(inst, job) == "done", inst.sql("SELECT message FROM core_backgroundjob WHERE id = ?", (job,))
    assert _imported(inst) == ROWS
    assert during >= 3, f"the import ended before other writes could be tried ({during})"
    assert set(answers) == {201}, answers  # never 503 (locked) nor 500
    codes = [row[0] for row in inst.sql("SELECT code FROM requirements_requirement")]
    assert len(codes) == len(set(codes)) == ROWS + len(answers)
