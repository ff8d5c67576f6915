"""Background jobs survive a crash: claim and heartbeat, stale jobs become 已中断, retry starts them again."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from needpool.core import jobs
from needpool.core.models import AuditEntry, BackgroundJob
from tests.conftest import PASSWORD

Status = BackgroundJob.Status
pytestmark = pytest.mark.django_db

KIND = "test_retry_kind"
RAN: list[int] = []


@pytest.fixture(autouse=True)
def _test_kind(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    RAN.clear()
    jobs.register_job_kind(KIND, task=RAN.append, check=lambda job: job.params.get("refuse"))
    yield
    jobs._KINDS.pop(KIND, None)


def _job(user=None, *, status=Status.RUNNING, beat_ago: float | None = 600, **fields):
    job = BackgroundJob.objects.create(kind=KIND, status=status, created_by=user, total=10, **fields)
    if beat_ago is not None:
        BackgroundJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=beat_ago))
    job.refresh_from_db()
    return job


# ---------------------------------------------------------------- claim and heartbeat


def test_claim_runs_a_queued_job_once_and_never_a_finished_or_interrupted_one(users):
    queued = _job(users["sales"], status=Status.QUEUED, beat_ago=None)
    assert jobs.job_claim(queued.pk)
    queued.refresh_from_db()
    assert queued.status == Status.RUNNING and queued.heartbeat_at is not None
    for status in (Status.DONE, Status.FAILED, Status.INTERRUPTED):
        assert not jobs.job_claim(_job(status=status).pk)


def test_heartbeat_is_one_update_with_the_progress(users, django_assert_num_queries):
    job = _job(users["sales"])
    with django_assert_num_queries(1):
        jobs.heartbeat(job.pk, done=5)
    job.refresh_from_db()
    assert job.done == 5
    assert timezone.now() - job.heartbeat_at < dt.timedelta(seconds=60)


# ---------------------------------------------------------------- recovery


def test_a_running_job_without_a_beat_becomes_interrupted_with_the_reason(users, settings):
    settings.NEEDPOOL_JOB_STALE_SECONDS = 120
    stale = _job(users["sales"], beat_ago=600, message="客户表.xlsx")
    fresh = _job(users["sales"], beat_ago=10)
    claimed = _job(users["sales"], status=Status.QUEUED, beat_ago=600)
    never_claimed = _job(users["sales"], status=Status.QUEUED, beat_ago=None)
    done = _job(users["sales"], status=Status.DONE, beat_ago=600)

    assert jobs.jobs_recover_stale() == 2

    statuses = {j.pk: j.status for j in BackgroundJob.objects.all()}
    assert statuses[stale.pk] == statuses[claimed.pk] == Status.INTERRUPTED
    assert statuses[fresh.pk] == Status.RUNNING
    assert statuses[never_claimed.pk] == Status.QUEUED  # still in the queue: the worker will run it
    assert statuses[done.pk] == Status.DONE
    stale.refresh_from_db()
    assert stale.message == "任务在执行中被中断（进程退出），可点击重试"
    assert stale.finished_at is not None
    assert stale.params["message_before"] == "客户表.xlsx"
    assert AuditEntry.objects.filter(object_id=stale.pk, action=AuditEntry.Action.UPDATE).exists()
    assert jobs.jobs_recover_stale() == 0  # nothing twice


def test_a_beat_in_the_side_channel_keeps_a_job_alive(users, settings):
    """On SQLite a job writing in one long transaction cannot write its row: the side channel speaks for it."""
    settings.NEEDPOOL_JOB_STALE_SECONDS = 120
    job = _job(users["sales"], beat_ago=600)
    jobs.side_beat(job.pk)
    assert jobs.jobs_recover_stale() == 0
    jobs.side_beat_clear(job.pk)
    assert jobs.jobs_recover_stale() == 1


def test_beating_writes_the_side_channel_from_a_thread(users, settings):
    settings.NEEDPOOL_JOB_HEARTBEAT_SECONDS = 0.05
    settings.HUEY = {**settings.HUEY, "immediate": False}
    job = _job(users["sales"])
    seen = threading.Event()
    with jobs.beating(job.pk):
        first = jobs.side_beat_at(job.pk)
        for _ in range(200):
            later = jobs.side_beat_at(job.pk)
            if later and first and later > first:
                seen.set()
                break
            threading.Event().wait(0.02)
    assert seen.is_set()
    assert jobs.side_beat_at(job.pk) is None  # cleared when the job ends


# ---------------------------------------------------------------- retry


def test_retry_creates_a_new_job_with_the_same_parameters_and_queues_it(users, django_capture_on_commit_callbacks):
    old = _job(users["sales"], status=Status.INTERRUPTED, params={"file": "imports/a.xlsx", "result": {"x": 1}})
    with django_capture_on_commit_callbacks(execute=True):
        retry = jobs.job_retry(actor=users["sales"], job=old)
    assert retry.pk != old.pk
    assert retry.retry_of == old
    assert retry.kind == KIND and retry.status == Status.QUEUED
    assert retry.params == {"file": "imports/a.xlsx"}  # the result of the old run is not carried over
    assert retry.created_by == users["sales"]
    assert [retry.pk] == RAN
    entry = AuditEntry.objects.get(object_id=retry.pk, action=AuditEntry.Action.CREATE)
    assert entry.changes["retry_of"] == old.pk
    # a second click returns the retry already started
    assert jobs.job_retry(actor=users["sales"], job=old) == retry
    assert BackgroundJob.objects.filter(retry_of=old).count() == 1


def test_retry_of_a_failed_job_by_an_admin(users):
    old = _job(users["sales"], status=Status.FAILED)
    assert jobs.job_retry(actor=users["admin"], job=old).retry_of == old


@pytest.mark.parametrize("status", [Status.QUEUED, Status.RUNNING, Status.DONE])
def test_retry_is_refused_for_a_job_that_is_not_interrupted_or_failed(users, status):
    old = _job(users["sales"], status=status)
    with pytest.raises(ValidationError, match="只有已中断或失败的任务可以重试"):
        jobs.job_retry(actor=users["sales"], job=old)
    assert not BackgroundJob.objects.filter(retry_of=old).exists()


def test_retry_is_refused_when_the_kind_says_so_or_is_unknown(users):
    refused = _job(users["sales"], status=Status.INTERRUPTED, params={"refuse": "上传的文件已不存在，请重新上传。"})
    with pytest.raises(ValidationError, match="上传的文件已不存在"):
        jobs.job_retry(actor=users["sales"], job=refused)
    unknown = BackgroundJob.objects.create(kind="no_such_kind", status=Status.INTERRUPTED, created_by=users["sales"])
    with pytest.raises(ValidationError, match="这类任务不能重试"):
        jobs.job_retry(actor=users["sales"], job=unknown)
    assert not BackgroundJob.objects.filter(retry_of__isnull=False).exists()


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    role=st.sampled_from(["manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"]),
    owner=st.sampled_from(["someone_else", "nobody"]),
    status=st.sampled_from(list(Status)),
    active=st.booleans(),
)
def test_only_the_creator_or_an_admin_may_retry(users, make_user, role, owner, status, active):
    """Whatever the role, the job's state or whose it is, only its creator or an admin starts it again."""
    actor = users[role]
    actor.is_active = active
    creator = None if owner == "nobody" else make_user("sales")
    old = _job(creator, status=status)
    if status in jobs.RETRYABLE:
        with pytest.raises(PermissionDenied):
            jobs.job_retry(actor=actor, job=old)
    else:
        with pytest.raises((PermissionDenied, ValidationError)):
            jobs.job_retry(actor=actor, job=old)
    assert not BackgroundJob.objects.filter(retry_of=old).exists()
    # the creator, while active, may
    if creator is not None and status in jobs.RETRYABLE:
        assert jobs.job_retry(actor=creator, job=old).retry_of == old


# ---------------------------------------------------------------- pages


def test_the_job_page_offers_retry_and_posting_it_starts_the_retry(users, client):
    old = _job(users["sales"], status=Status.INTERRUPTED, message=jobs.INTERRUPTED_MESSAGE)
    client.login(username="sales", password=PASSWORD)
    page = client.get(f"/jobs/{old.pk}/").content.decode()
    assert "已中断" in page and "可点击重试" in page and 'id="job-retry"' in page
    response = client.post(f"/jobs/{old.pk}/retry/")
    retry = BackgroundJob.objects.get(retry_of=old)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{retry.pk}/"
    assert 'id="job-retry-link"' in client.get(f"/jobs/{old.pk}/").content.decode()


def test_someone_elses_job_is_not_found_and_cannot_be_retried(users, client):
    old = _job(users["sales"], status=Status.INTERRUPTED)
    client.login(username="service", password=PASSWORD)
    assert client.get(f"/jobs/{old.pk}/").status_code == 404
    assert client.post(f"/jobs/{old.pk}/retry/").status_code == 404
    assert not BackgroundJob.objects.filter(retry_of=old).exists()
    assert client.get(f"/jobs/{old.pk}/retry/").status_code == 405


# ---------------------------------------------------------------- two people at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_retrying_at_once_start_one_retry(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    owner = make_user("sales", username="owner")
    admin = make_user("admin", username="boss")
    old = _job(owner, status=Status.INTERRUPTED)
    barrier = threading.Barrier(4)
    started: list[int] = []
    errors: list[BaseException] = []

    def worker(actor):
        try:
            barrier.wait(timeout=10)
            started.append(jobs.job_retry(actor=actor, job=old).pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in (owner, admin, owner, admin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(set(started)) == 1
    assert BackgroundJob.objects.filter(retry_of=old).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_recovery_and_a_late_claim_at_once_leave_one_state(make_user, settings):
    """The recovery and a (re-delivered) task racing on one job: the job ends either running or interrupted."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    settings.NEEDPOOL_JOB_STALE_SECONDS = 60
    job = _job(make_user("sales"), status=Status.QUEUED, beat_ago=600)
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def recover():
        barrier.wait(timeout=10)
        outcome["recovered"] = jobs.jobs_recover_stale()
        connection.close()

    def claim():
        barrier.wait(timeout=10)
        outcome["claimed"] = jobs.job_claim(job.pk)
        connection.close()

    threads = [threading.Thread(target=recover), threading.Thread(target=claim)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    job.refresh_from_db()
    if job.status == Status.INTERRUPTED:
        assert outcome["recovered"] == 1
    else:
        assert job.status == Status.RUNNING and outcome["claimed"] and outcome["recovered"] == 0
