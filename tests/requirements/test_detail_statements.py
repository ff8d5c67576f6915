"""The detail page reads what a requirement has, and no statement for what it has not.

``requirement_get`` asks in its own statement whether the requirement has comments, attachments, watchers and
merges, and reads only those; the sections of other apps (reviews, loop, evaluation) are probed together in one
statement, and only a section with something recorded reads its rows. Whatever the requirement has, the page
shows the same as when everything was read: each thing appears once it exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from needpool.accounts.roles import Role
from needpool.core.pagination import known_empty
from needpool.requirements.merging.services import requirement_watch
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import requirement_get
from needpool.requirements.services.discussion import attachment_add, comment_create
from needpool.reviews.models import ReviewAttendee
from needpool.reviews.services.meetings import agenda_add, meeting_create

pytestmark = pytest.mark.django_db

#: Tables a requirement often has no rows in, each read by a statement of its own when it has some.
READS = {
    "comments": 'FROM "requirements_comment"',
    "attachments": 'FROM "requirements_attachment"',
    "watchers": 'FROM "accounts_user" INNER JOIN "requirements_requirement_watchers"',
    "reviews": 'FROM "reviews_agendaitem"',
    "evaluations": 'FROM "evaluation_evaluation"',
    "notices": 'FROM "loop_customernotice"',
    "csat": 'FROM "loop_surveyinvitation"',
    "merges": 'FROM "requirements_requirementmerge"',
}


def _page(client: Any, requirement: Requirement) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("requirements:detail", args=[requirement.pk]))
    assert response.status_code == 200
    # Statements of their own: a probe's EXISTS sits inside another statement, after its first FROM.
    own = [q["sql"] for q in captured.captured_queries]
    return response.content.decode(), own


def _reads(statements: list[str]) -> set[str]:
    found = set()
    for name, marker in READS.items():
        for sql in statements:
            head = sql.split(" WHERE ", 1)[0]
            if marker in head and "EXISTS(" not in head:
                found.add(name)
    return found


def test_a_bare_requirement_reads_none_of_them(client: Any, users: dict[str, Any], requirement: Requirement) -> None:
    client.force_login(users["manager"])
    html, statements = _page(client, requirement)
    assert _reads(statements) == set(), statements
    assert 'id="comments"' in html and 'id="attachments"' in html
    assert not any('AS "has_plans"' in sql for sql in statements), statements  # delivery's own flags
    # A reviewer may still put it on an agenda, a planner plan it: their empty sections show for them.
    assert 'id="section-reviews"' in html
    assert 'id="section-delivery"' in html


def test_each_thing_is_read_and_shown_once_it_exists(
    client: Any, users: dict[str, Any], requirement: Requirement
) -> None:
    pm, manager = users["product_manager"], users["manager"]
    client.force_login(manager)
    comment_create(actor=pm, requirement=requirement, body="请补充客户的订单规模")
    attachment_add(
        actor=pm, requirement=requirement, upload=SimpleUploadedFile("规则说明.txt", "折扣规则".encode(), "text/plain")
    )
    requirement_watch(actor=manager, requirement=requirement)
    start = timezone.now() + dt.timedelta(days=3)
    meeting = meeting_create(
        actor=pm,
        title="评审会",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        place="会议室",
        chair=pm,
        attendees=[(users["engineer"], ReviewAttendee.Role.RD)],
    )
    agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])
    html, statements = _page(client, requirement)
    assert {"comments", "attachments", "watchers", "reviews"} <= _reads(statements), statements
    assert "请补充客户的订单规模" in html
    assert "规则说明.txt" in html
    assert "评审会" in html


def test_the_empty_review_and_delivery_sections_are_for_reviewers_and_planners_only(
    client: Any, users: dict[str, Any], requirement: Requirement, make_user: Any
) -> None:
    client.force_login(make_user(role=Role.VIEWER, username="reader"))
    html, statements = _page(client, requirement)
    assert 'id="section-reviews"' not in html
    assert 'id="section-delivery"' not in html
    assert "reviews" not in _reads(statements)


def test_known_empty_reads_from_memory_and_a_write_forgets_it(users: dict[str, Any], requirement: Requirement) -> None:
    loaded = requirement_get(user=users["manager"], pk=requirement.pk)
    assert loaded.has_comments is False  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as captured:
        assert list(loaded.comments.all()) == []
        assert loaded.comments.count() == 0
        assert list(loaded.watchers.all()) == []
    assert captured.captured_queries == []
    requirement_watch(actor=users["manager"], requirement=loaded)
    assert [u.pk for u in loaded.watchers.all()] == [users["manager"].pk]  # add() drops the cached empty list
    fresh = Requirement.objects.get(pk=requirement.pk)
    known_empty(fresh, "attachments")
    assert list(fresh.attachments.all()) == []
