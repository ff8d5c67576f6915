"""Exporting a report runs as a background job: started from the 导出 buttons, built as the user who asked,
watched on its page, downloaded only by that user; bad input starts nothing, a failing report fails the job."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from needpool.accounts.models import User
from needpool.accounts.roles import Role
from needpool.core.models import BackgroundJob
from needpool.reports import registry
from needpool.reports.document import Report
from needpool.reports.export_jobs import REPORT_EXPORT, report_export_run
from tests.archive.pdftext import pdf_text
from tests.reports.export_samples import export_report

START = reverse("reports:export_start")


class FakeBuilder:
    """Stands for a report builder: records who asked for what, and fails the way a real one does."""

    def __init__(self) -> None:
        self.calls: list[tuple[User, dict[str, str]]] = []

    def __call__(self, user: User, query: dict[str, str]) -> Report:
        self.calls.append((user, query))
        mode = query.get("mode", "")
        if mode == "invalid":
            raise ValidationError({"start": ["开始日期格式不正确。"]})
        if mode == "hidden" or user.role == Role.VIEWER:
            raise Http404
        if mode == "boom":
            raise RuntimeError("renderer exploded")
        return export_report()


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> FakeBuilder:
    fake = FakeBuilder()
    monkeypatch.setitem(registry.BUILDERS, "fake", fake)
    return fake


@pytest.fixture
def signed_in(client: Client, users: dict[str, User]) -> Client:
    client.force_login(users["manager"])
    return client


def start(client: Client, capture: Callable[..., Any], **data: str) -> Any:
    with capture(execute=True):
        return client.post(START, {"kind": "fake", "format": "pdf", "next": "/reports/?start=2026-11-01", **data})


def only_job() -> BackgroundJob:
    return BackgroundJob.objects.get(kind=REPORT_EXPORT)


# ---------------------------------------------------------------- the flow


def test_post_starts_a_job_that_builds_as_the_user_and_offers_the_pdf(
    signed_in: Client, users: dict[str, User], builder: FakeBuilder, django_capture_on_commit_callbacks: Any
) -> None:
    response = start(signed_in, django_capture_on_commit_callbacks, start="2026-11-01", team="3")
    job = only_job()
    assert response.status_code == 302 and response.url == reverse("reports:export_job", args=[job.pk])
    assert builder.calls == [(users["manager"], {"start": "2026-11-01", "team": "3"})]
    assert job.created_by == users["manager"]
    assert job.params["kind"] == "fake" and job.params["format"] == "pdf"
    assert job.params["query"] == {"start": "2026-11-01", "team": "3"}
    assert (job.status, job.done, job.total) == (BackgroundJob.Status.DONE, 3, 3)
    assert job.finished_at is not None
    assert job.params["result"]["filename"] == "需求仪表盘 _月度-2026-11-30.pdf"
    assert job.params["result"]["file"].startswith("reports/exports/")

    page = signed_in.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "已完成" in html and 'id="export-download"' in html and "hx-get" not in html
    assert 'href="/reports/?start=2026-11-01" class="btn btn-ghost-secondary" id="export-back"' in html

    download = signed_in.get(reverse("reports:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert "需求满足率" in pdf_text(body) and "62.5%" in pdf_text(body)


def test_the_excel_export_downloads_a_workbook(
    signed_in: Client, builder: FakeBuilder, django_capture_on_commit_callbacks: Any
) -> None:
    start(signed_in, django_capture_on_commit_callbacks, format="xlsx")
    job = only_job()
    download = signed_in.get(reverse("reports:export_download", args=[job.pk]))
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert book.sheetnames[:2] == ["概览", "按负责人"]
    assert book["按负责人"]["B2"].value == 120


def test_a_running_job_page_polls_its_progress(signed_in: Client, users: dict[str, User], builder: FakeBuilder) -> None:
    signed_in.post(START, {"kind": "fake", "format": "pdf"})  # queued: nothing committed runs it here
    job = only_job()
    assert job.status == BackgroundJob.Status.QUEUED and builder.calls == []
    html = signed_in.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    assert reverse("reports:export_progress", args=[job.pk]) in html and "排队中" in html
    assert "export-download" not in html
    assert signed_in.get(reverse("reports:export_download", args=[job.pk])).status_code == 404
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.RUNNING, done=1)
    partial = signed_in.get(reverse("reports:export_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "步骤 1 / 3" in partial.content.decode() and 'data-percent="33"' in partial.content.decode()
    report_export_run(job_id=job.pk)
    done = signed_in.get(reverse("reports:export_progress", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "export-download" in done and "hx-get" not in done


def test_the_export_buttons_post_the_report_and_its_query(signed_in: Client, users: dict[str, User]) -> None:
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/reports/?start=2026-11-01&segment=<x>&format=html")
    request.user = users["manager"]
    html = Template('{% include "reports/_export_buttons.html" with kind="dashboard" %}').render(
        Context({"request": request})
    )
    assert f'action="{START}"' in html
    assert '<input type="hidden" name="kind" value="dashboard">' in html
    assert '<input type="hidden" name="start" value="2026-11-01">' in html
    assert 'value="&lt;x&gt;"' in html
    assert 'name="format" value="html"' not in html  # the buttons' own field is not a report parameter
    assert "导出 PDF" in html and "导出 Excel" in html
    given_query = Template('{% include "reports/_export_buttons.html" with kind="monthly" query=q %}').render(
        Context({"request": request, "q": {"month": "2026-11"}})
    )
    assert 'name="month" value="2026-11"' in given_query and 'name="start"' not in given_query


# ---------------------------------------------------------------- who may see it


@pytest.mark.parametrize("name", ["export_job", "export_progress", "export_download"])
def test_another_user_gets_404(
    client: Client, users: dict[str, User], builder: FakeBuilder, django_capture_on_commit_callbacks: Any, name: str
) -> None:
    client.force_login(users["manager"])
    start(client, django_capture_on_commit_callbacks)
    job = only_job()
    for other in ("admin", "product_manager", "sales"):
        client.force_login(users[other])
        assert client.get(reverse(f"reports:{name}", args=[job.pk])).status_code == 404
    client.logout()
    assert client.get(reverse(f"reports:{name}", args=[job.pk])).status_code == 302  # to sign-in


def test_a_job_of_another_kind_is_not_an_export(signed_in: Client, users: dict[str, User]) -> None:
    other = BackgroundJob.objects.create(kind="import_preview", created_by=users["manager"])
    assert signed_in.get(reverse("reports:export_job", args=[other.pk])).status_code == 404


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(creator_role=st.sampled_from(list(Role)), reader_role=st.sampled_from(list(Role)))
def test_only_the_creator_ever_sees_an_export(
    make_user: Callable[..., User], builder: FakeBuilder, creator_role: Role, reader_role: Role
) -> None:
    creator, reader = make_user(creator_role.value), make_user(reader_role.value)
    job = BackgroundJob.objects.create(
        kind=REPORT_EXPORT, total=3, created_by=creator, params={"kind": "fake", "format": "pdf", "query": {}}
    )
    client = Client()
    client.force_login(reader)
    assert client.get(reverse("reports:export_job", args=[job.pk])).status_code == 404
    client.force_login(creator)
    assert client.get(reverse("reports:export_job", args=[job.pk])).status_code == 200


def test_the_report_is_built_with_the_creators_rights_when_the_job_runs(
    client: Client, users: dict[str, User], builder: FakeBuilder
) -> None:
    client.force_login(users["manager"])
    client.post(START, {"kind": "fake", "format": "pdf"})
    job = only_job()
    User.objects.filter(pk=users["manager"].pk).update(role=Role.VIEWER)  # lost access before the job ran
    report_export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED
    assert job.message == "报表不存在或您无权查看。"
    assert builder.calls[0][0].pk == users["manager"].pk
    assert "result" not in job.params


def test_a_deactivated_creator_gets_no_file(client: Client, users: dict[str, User], builder: FakeBuilder) -> None:
    client.force_login(users["manager"])
    client.post(START, {"kind": "fake", "format": "xlsx"})
    job = only_job()
    User.objects.filter(pk=users["manager"].pk).update(is_active=False)
    report_export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and "停用" in job.message
    assert builder.calls == []


# ---------------------------------------------------------------- bad input, failures


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "nonsense", "format": "pdf"}, "未知的报表类型“nonsense”。"),
        ({"kind": "", "format": "pdf"}, "未知的报表类型“”。"),
        ({"kind": "fake", "format": "docx"}, "导出格式只能是 PDF 或 Excel。"),
        ({"kind": "fake"}, "导出格式只能是 PDF 或 Excel。"),
        ({"kind": "fake", "format": "pdf", "start": "x" * 501}, "报表参数“start”过长。"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_no_job(
    signed_in: Client, builder: FakeBuilder, data: dict[str, str], message: str
) -> None:
    response = signed_in.post(START, {**data, "next": "/reports/?start=2026-11-01"})
    assert response.status_code == 302 and response.url == "/reports/?start=2026-11-01"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]
    assert not BackgroundJob.objects.exists()


def test_too_many_parameters_are_refused(signed_in: Client, builder: FakeBuilder) -> None:
    data = {f"p{i}": "1" for i in range(31)}
    response = signed_in.post(START, {"kind": "fake", "format": "pdf", **data})
    assert response.url == reverse("reports:dashboard")  # no page to go back to: the dashboard
    assert "报表参数过多（最多 30 个）。" in [str(m) for m in get_messages(response.wsgi_request)]
    assert not BackgroundJob.objects.exists()


def test_an_outside_next_is_not_followed(signed_in: Client, builder: FakeBuilder) -> None:
    response = signed_in.post(START, {"kind": "nope", "format": "pdf", "next": "https://evil.example/"})
    assert response.url == reverse("reports:dashboard")
    signed_in.post(START, {"kind": "fake", "format": "pdf", "next": "//evil.example/x"})
    job = only_job()
    assert job.params["back"] == reverse("reports:dashboard")
    html = signed_in.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    assert "evil.example" not in html


def test_only_post_starts_an_export(signed_in: Client, builder: FakeBuilder) -> None:
    assert signed_in.get(START, {"kind": "fake", "format": "pdf"}).status_code == 405
    assert not BackgroundJob.objects.exists()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("invalid", "无法生成报表：开始日期格式不正确。"),
        ("hidden", "报表不存在或您无权查看。"),
        ("boom", "生成文件时出错，请重试；问题持续请联系管理员。"),
    ],
)
def test_a_failing_report_fails_the_job_with_a_message(
    signed_in: Client, builder: FakeBuilder, django_capture_on_commit_callbacks: Any, mode: str, message: str
) -> None:
    response = start(signed_in, django_capture_on_commit_callbacks, mode=mode)
    job = only_job()
    assert job.status == BackgroundJob.Status.FAILED and job.message == message
    assert job.finished_at is not None and "result" not in job.params
    html = signed_in.get(response.url).content.decode()
    assert message in html and "export-download" not in html
    assert 'id="job-retry"' in html  # the creator may run it again
    assert signed_in.get(reverse("reports:export_download", args=[job.pk])).status_code == 404
    assert not default_storage.exists("reports/exports") or not default_storage.listdir("reports/exports")[1]


def test_a_kind_whose_builder_is_missing_fails_with_a_message(
    signed_in: Client, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setitem(registry.BUILDERS, "dashboard", "needpool.reports.no_such_module.build_from_query")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(START, {"kind": "dashboard", "format": "pdf"})
    job = only_job()
    assert job.status == BackgroundJob.Status.FAILED
    assert job.message == "无法生成报表：“仪表盘”暂不能导出。"


def test_a_retried_export_runs_again_for_its_creator(
    signed_in: Client, builder: FakeBuilder, django_capture_on_commit_callbacks: Any
) -> None:
    start(signed_in, django_capture_on_commit_callbacks, mode="boom")
    failed = only_job()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("core:job_retry", args=[failed.pk]))
    retry = BackgroundJob.objects.get(retry_of=failed)
    assert response.url == reverse("reports:export_job", args=[retry.pk])
    assert retry.params["query"] == {"mode": "boom"} and retry.status == BackgroundJob.Status.FAILED
    assert len(builder.calls) == 2


def test_running_a_job_twice_changes_nothing(
    signed_in: Client, builder: FakeBuilder, django_capture_on_commit_callbacks: Any
) -> None:
    start(signed_in, django_capture_on_commit_callbacks)
    job = only_job()
    report_export_run(job_id=job.pk)
    assert len(builder.calls) == 1
    assert BackgroundJob.objects.get(pk=job.pk).params == job.params


# ---------------------------------------------------------------- keeping files


def test_old_export_files_are_deleted_and_the_page_says_so(
    signed_in: Client, builder: FakeBuilder, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    start(signed_in, django_capture_on_commit_callbacks)
    job = only_job()
    stored = job.params["result"]["file"]
    assert default_storage.exists(stored)
    from needpool.reports.export_jobs import report_exports_cleanup

    assert report_exports_cleanup() == 0  # a fresh file is kept
    assert report_exports_cleanup(now=timezone.now() + dt.timedelta(days=8)) == 1
    assert not default_storage.exists(stored)
    assert report_exports_cleanup(now=timezone.now() + dt.timedelta(days=9)) == 0
    html = signed_in.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    assert "文件已过保留期被清理，请重新导出。" in html
    assert signed_in.get(reverse("reports:export_download", args=[job.pk])).status_code == 404


def test_a_file_missing_from_storage_is_a_404(
    signed_in: Client, builder: FakeBuilder, django_capture_on_commit_callbacks: Any
) -> None:
    start(signed_in, django_capture_on_commit_callbacks)
    job = only_job()
    default_storage.delete(job.params["result"]["file"])
    assert signed_in.get(reverse("reports:export_download", args=[job.pk])).status_code == 404


# ---------------------------------------------------------------- query counts


def test_the_job_page_reads_a_bounded_number_of_rows(
    signed_in: Client,
    builder: FakeBuilder,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    start(signed_in, django_capture_on_commit_callbacks, format="xlsx")
    job = only_job()
    for _ in range(5):
        start(signed_in, django_capture_on_commit_callbacks, format="xlsx")
    with django_assert_max_num_queries(4):
        assert signed_in.get(reverse("reports:export_job", args=[job.pk])).status_code == 200
    with django_assert_max_num_queries(4):
        assert signed_in.get(reverse("reports:export_progress", args=[job.pk])).status_code == 200
