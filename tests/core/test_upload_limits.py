"""Request body caps (core.uploads): a body over the cap of its path is refused with 413 before it is read, and
a body longer than it declared is cut off at the cap; the view never runs and nothing is written."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.base import BaseHandler
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.models import BackgroundJob
from needpool.core.uploads import body_limit, declared_length, size_label
from needpool.intake.channels.services import channel_create
from needpool.intake.models import Submission
from needpool.requirements.models import Attachment, Feedback
from tests.intake.portal.conftest import portal_data

pytestmark = pytest.mark.django_db

# Small caps so a body on either side of them is cheap to build.
CAPS = {"/": 64_000, "/portal/": 6_000, "/requirements/": 5_000, "/intake/import/": 7_000}


class Untouchable(io.RawIOBase):
    """A wsgi.input that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the request body was read")

    readline = read
    readinto = read  # type: ignore[assignment]


class CountingInput(io.BytesIO):
    """A body that remembers how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        chunk = super().readline(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.fixture(autouse=True)
def _small_caps(settings: Any) -> None:
    settings.NEEDPOOL_BODY_LIMITS = dict(CAPS)


@pytest.fixture
def channel(users):
    return channel_create(
        actor=users["admin"], name="官网表单", slug="site", kind="portal", portal_rate_limit=10_000, max_attachments=1
    )


class Target:
    """One capped upload: where it goes, who sends it, what it sends, and the rows it would write."""

    def __init__(self, path: str, client: Client, fields: dict[str, Any], file_field: str, file_name: str,
                 rows: Callable[[], int]) -> None:  # fmt: skip
        self.path = path
        self.client = client
        self.fields = fields
        self.file_field = file_field
        self.file_name = file_name
        self.rows = rows

    @property
    def limit(self) -> int:
        return CAPS[self.path if self.path in CAPS else "/" + self.path.split("/")[1] + "/"]

    def body(self, size: int) -> bytes:
        """A well-formed multipart body of exactly ``size`` bytes (the file pads it), or a bigger one if too small."""
        base = len(self._encode(b"x"))
        return self._encode(b"x" * max(size - base + 1, 1))

    def _encode(self, content: bytes) -> bytes:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(self.file_name, content, content_type="text/plain")
        return encode_multipart(BOUNDARY, {**self.fields, self.file_field: upload})

    def post(self, body: bytes | None = None, **environ: Any) -> Any:
        return self.client.generic("POST", self.path, body or b"", content_type=MULTIPART_CONTENT, **environ)


@pytest.fixture
def targets(users, requirement, channel) -> dict[str, Target]:
    staff = Client()
    staff.force_login(users["admin"])
    return {
        "portal": Target(
            f"/portal/{channel.slug}/",
            Client(),
            portal_data(),
            "attachments",
            "截图.txt",
            lambda: Submission.objects.count() + Feedback.objects.count(),
        ),
        "attachment": Target(
            f"/requirements/{requirement.pk}/attachments/", staff, {}, "file", "说明.txt", Attachment.objects.count
        ),
        "import": Target(
            "/intake/import/",
            staff,
            {"layout": "", "apply_status": "on"},
            "file",
            "需求.csv",
            lambda: BackgroundJob.objects.count(),
        ),
    }


ALL = ["portal", "attachment", "import"]


# ---------------------------------------------------------------- the table and the header


def test_the_longest_matching_prefix_decides():
    table = {"/": 10, "/portal/": 20, "/portal/staff/": 30}
    assert body_limit("/portal/site/", table) == 20
    assert body_limit("/portal/staff/x/", table) == 30
    assert body_limit("/customers/", table) == 10
    assert body_limit("/customers/", {"/portal/": 20}) is None


def test_the_default_table_caps_the_three_upload_paths_by_their_file_limits(settings):
    from needpool import settings as project

    limits = project.NEEDPOOL_BODY_LIMITS
    assert body_limit("/portal/site/", limits) == project.NEEDPOOL_PORTAL_MAX_BYTES
    assert body_limit("/requirements/7/attachments/", limits) > project.NEEDPOOL_ATTACHMENT_MAX_BYTES
    assert body_limit("/intake/import/", limits) > project.NEEDPOOL_IMPORT_MAX_BYTES
    assert project.FILE_UPLOAD_HANDLERS[0] == "needpool.core.uploads.BodyCapUploadHandler"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (" 12 ", 12), ("+12", 12), ("0", 0), ("", None), ("abc", None), (None, None), ("1e3", None)],
)
def test_content_length_is_read_the_way_django_reads_it(value, expected):
    assert declared_length({"CONTENT_LENGTH": value} if value is not None else {}) == expected


def test_size_label_reads_like_a_person_would_say_it():
    assert size_label(10 * 1024 * 1024) == "10 MB"
    assert size_label(1536 * 1024) == "1.5 MB"
    assert size_label(6_000) == "5.9 KB"
    assert size_label(500) == "500 B"


# ---------------------------------------------------------------- refused before reading


@pytest.mark.parametrize("name", ALL)
def test_a_declared_length_over_the_cap_is_refused_unread_and_the_view_never_runs(targets, name):
    target = targets[name]
    before = target.rows()
    response = target.post(CONTENT_LENGTH=str(target.limit + 1), **{"wsgi.input": Untouchable()})
    assert response.status_code == 413
    html = response.content.decode()
    assert "上传的内容过大" in html and size_label(target.limit) in html
    assert 'id="upload-refusal"' in html
    assert target.rows() == before


def test_the_api_answers_413_in_json(users):
    client = Client()
    client.force_login(users["admin"])
    response = client.generic(
        "POST",
        "/api/v1/requirements/",
        b"",
        content_type="application/json",
        CONTENT_LENGTH=str(CAPS["/"] + 1),
        **{"wsgi.input": Untouchable()},
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "上传的内容过大" in response.json()["detail"] and response.json()["max_bytes"] == CAPS["/"]


def test_the_refusal_page_links_back_only_to_this_site(targets):
    target = targets["portal"]
    own = target.post(
        CONTENT_LENGTH=str(10**9), HTTP_REFERER="http://testserver/portal/site/", **{"wsgi.input": Untouchable()}
    )
    assert 'href="http://testserver/portal/site/"' in own.content.decode()
    foreign = target.post(
        CONTENT_LENGTH=str(10**9), HTTP_REFERER="https://evil.example/x", **{"wsgi.input": Untouchable()}
    )
    assert "evil.example" not in foreign.content.decode() and 'href="/"' in foreign.content.decode()


def test_anonymous_uploads_to_staff_pages_are_sent_to_sign_in_before_anything_is_read(requirement):
    response = Client().generic(
        "POST",
        f"/requirements/{requirement.pk}/attachments/",
        b"",
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH="100",
        **{"wsgi.input": Untouchable()},
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- sizes around the cap (hypothesis)


@given(
    name=st.sampled_from(ALL),
    delta=st.one_of(st.sampled_from([-1, 0, 1]), st.integers(min_value=-40, max_value=40)),
)
@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_a_true_length_is_served_up_to_the_cap_and_refused_unread_past_it(targets, name, delta):
    target = targets[name]
    size = target.limit + delta
    body = target.body(size)
    assert len(body) == size
    stream = CountingInput(body)
    before = target.rows()
    response = target.post(body, **{"wsgi.input": stream})
    if size > target.limit:
        assert response.status_code == 413
        assert stream.bytes_read == 0
        assert target.rows() == before
    else:
        assert response.status_code in (200, 302), response.content.decode()[:500]
        assert response.status_code == 302, "the upload was not accepted"
        assert target.rows() > before
        assert stream.bytes_read == size


@given(
    name=st.sampled_from(ALL),
    declared=st.one_of(
        st.integers(min_value=1, max_value=2**64),
        st.sampled_from([2**31, 2**63 - 1, 2**63, 10**30]),
    ),
    spelling=st.sampled_from(["{}", " {}", "{} ", "+{}", "0{}", "00{}"]),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_any_spelling_of_a_length_over_the_cap_is_refused_unread(targets, name, declared, spelling):
    target = targets[name]
    declared += target.limit
    before = target.rows()
    response = target.post(CONTENT_LENGTH=spelling.format(declared), **{"wsgi.input": Untouchable()})
    assert response.status_code == 413
    assert target.rows() == before


# ---------------------------------------------------------------- bodies longer than they say


@pytest.mark.parametrize("name", ALL)
def test_wsgi_reads_no_further_than_the_declared_length_and_refuses_the_cut_body(targets, name):
    """A body that declares less than it carries: only the declared bytes are read, and what they hold is a
    form whose file was cut short, so it is refused (400) instead of saved as if whole."""
    target = targets[name]
    body = target.body(target.limit * 20)
    stream = CountingInput(body)
    before = target.rows()
    response = target.post(body, CONTENT_LENGTH=str(target.limit), **{"wsgi.input": stream})
    assert response.status_code == 400
    assert "没有完整收到" in response.content.decode()
    assert stream.bytes_read <= target.limit
    assert target.rows() == before


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("kept", [0.1, 0.5, 0.99])
def test_a_body_that_stops_early_is_refused_not_saved_cut_short(targets, name, kept):
    """The connection drops mid-upload: the form is not saved with a truncated file or without it."""
    target = targets[name]
    body = target.body(target.limit - 10)
    before = target.rows()
    response = target.post(
        body, CONTENT_LENGTH=str(len(body)), **{"wsgi.input": CountingInput(body[: int(len(body) * kept)])}
    )
    assert response.status_code == 400
    assert target.rows() == before


@pytest.mark.parametrize("name", ALL)
def test_a_chunked_body_without_a_length_is_never_read(targets, name):
    target = targets[name]
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": Untouchable()}
    before = target.rows()
    response = target.client.generic("POST", target.path, b"", content_type=MULTIPART_CONTENT, **environ)
    assert response.status_code < 500
    assert target.rows() == before


def asgi_request(target: Target, body: bytes, declared: int | None) -> ASGIRequest:
    """An ASGI request whose body stream holds all of ``body`` whatever it declares (as Django's ASGI handler does)."""
    headers = [(b"content-type", MULTIPART_CONTENT.encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    cookie = target.client.cookies.output(header="", sep=";").strip()
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": target.path,
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    request = ASGIRequest(scope, CountingInput(body))
    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # as the test client does
    return request


@pytest.mark.parametrize("name", ALL)
def test_a_body_longer_than_it_declared_is_cut_off_at_the_cap_with_413(targets, name, settings):
    """Under ASGI the stream holds the whole body; the upload handler stops reading once the cap is passed."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = CAPS["/"]
    target = targets[name]
    body = target.body(target.limit * 50)
    request = asgi_request(target, body, declared=target.limit)
    handler = BaseHandler()
    handler.load_middleware()
    before = target.rows()
    response = handler.get_response(request)
    assert response.status_code == 413
    assert "上传的内容过大" in response.content.decode()
    assert target.rows() == before
    read = request._stream.bytes_read  # type: ignore[attr-defined]
    assert read < target.limit + 128 * 1024  # the cap plus at most a couple of read chunks, not the whole body
    assert read < len(body)


@pytest.mark.parametrize("name", ALL)
def test_a_body_within_the_cap_passes_the_upload_handler(targets, name):
    target = targets[name]
    body = target.body(target.limit)
    request = asgi_request(target, body, declared=len(body))
    handler = BaseHandler()
    handler.load_middleware()
    before = target.rows()
    response = handler.get_response(request)
    assert response.status_code == 302
    assert target.rows() > before
