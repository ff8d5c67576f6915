"""Saved views: what may be stored (known filter keys, a size limit), who reads and who changes a view."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team, User
from needpool.savedviews.models import QUERY_MAX_LENGTH, DefaultView, SavedView
from needpool.savedviews.queries import clean_query
from needpool.savedviews.selectors import saved_view_get, saved_view_list
from needpool.savedviews.services import (
    MAX_VIEWS_PER_LIST,
    saved_view_create,
    saved_view_delete,
    saved_view_set_default,
    saved_view_update,
)

pytestmark = pytest.mark.django_db


class TestQuery:
    def test_known_keys_are_kept_page_and_view_dropped_empty_values_dropped(self, db):
        stored = clean_query("requirements", "?urgency=urgent&sort=priority&page=3&view=9&q=")
        assert stored == "urgency=urgent&sort=priority"

    @pytest.mark.parametrize(
        ("kind", "query", "message"),
        [
            ("requirements", "evil=1", "不支持的筛选条件：evil"),
            ("requirements", "ids=1,2", "不支持的筛选条件：ids"),
            ("requirements", "urgency=nope", "nope"),
            ("requirements", "sort=password", "排序"),
            ("requirements", "expected_after=2024-02-30", "期望时间从"),
            ("requirements", "owner=1&owner=2", "只能有一个值"),
            ("requirements", "q=" + "长" * 201, "太长"),
            ("customers", "segment=vip", "客户分层"),
            ("customers", "urgency=urgent", "不支持的筛选条件"),
            ("feedback", "channel=fax", "渠道“fax”不存在"),
            ("feedback", "q=x", "不支持的筛选条件"),
            ("nothing", "", "未知的列表"),
        ],
    )
    def test_bad_queries_are_refused_with_a_clear_message(self, db, kind, query, message):
        with pytest.raises(ValidationError) as caught:
            clean_query(kind, query)
        assert message in " ".join(caught.value.messages)

    def test_the_size_is_limited(self, db):
        with pytest.raises(ValidationError, match=str(QUERY_MAX_LENGTH)):
            clean_query("requirements", "q=" + "a" * QUERY_MAX_LENGTH)

    def test_valid_queries_of_every_list(self, db):
        assert clean_query("customers", "segment=potential&sort=name") == "segment=potential&sort=name"
        assert clean_query("feedback", "channel=ticket") == "channel=ticket"
        assert clean_query("requirements", "") == ""


class TestWrites:
    def test_create_rename_share_delete(self, users):
        sales = users["sales"]
        view = saved_view_create(actor=sales, kind="requirements", name="  我的  紧急 ", query="urgency=urgent")
        assert (view.name, view.query, view.visibility, view.team_id) == (
            "我的 紧急",
            "urgency=urgent",
            "private",
            None,
        )
        saved_view_update(actor=sales, view=view, name="紧急需求", visibility="team", query="urgency=important")
        view.refresh_from_db()
        assert (view.name, view.visibility, view.team_id, view.query) == (
            "紧急需求",
            "team",
            sales.team_id,
            "urgency=important",
        )
        saved_view_update(actor=sales, view=view, visibility="private")
        view.refresh_from_db()
        assert view.team_id is None
        saved_view_delete(actor=sales, view=view)
        assert not SavedView.objects.exists()

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"name": "  "}, "请填写视图名称"),
            ({"name": "长" * 61}, "最多 60 个字"),
            ({"visibility": "public"}, "可见范围"),
            ({"kind": "orders"}, "未知的列表"),
        ],
    )
    def test_bad_input_writes_nothing(self, users, fields, message):
        data = {"kind": "requirements", "name": "视图", "query": "", **fields}
        with pytest.raises(ValidationError, match=message):
            saved_view_create(actor=users["sales"], **data)
        assert not SavedView.objects.exists()

    def test_names_are_unique_per_owner_and_list(self, users):
        saved_view_create(actor=users["sales"], kind="requirements", name="A")
        with pytest.raises(ValidationError, match="已有名为“A”"):
            saved_view_create(actor=users["sales"], kind="requirements", name="A")
        saved_view_create(actor=users["sales"], kind="customers", name="A")
        saved_view_create(actor=users["service"], kind="requirements", name="A")
        other = saved_view_create(actor=users["sales"], kind="requirements", name="B")
        with pytest.raises(ValidationError, match="已有名为“A”"):
            saved_view_update(actor=users["sales"], view=other, name="A")

    def test_a_user_without_a_team_cannot_share(self, users):
        with pytest.raises(ValidationError, match="不属于任何团队"):
            saved_view_create(actor=users["manager"], kind="requirements", name="A", visibility="team")

    def test_views_per_list_are_capped(self, users):
        for i in range(MAX_VIEWS_PER_LIST):
            SavedView.objects.create(owner=users["viewer"], kind="customers", name=f"v{i}")
        with pytest.raises(ValidationError, match=str(MAX_VIEWS_PER_LIST)):
            saved_view_create(actor=users["viewer"], kind="customers", name="one more")

    def test_a_shared_view_is_read_only_for_the_team(self, users):
        view = saved_view_create(actor=users["sales"], kind="requirements", name="团队", visibility="team")
        service = users["service"]  # same team
        assert saved_view_get(user=service, pk=view.pk) == view
        with pytest.raises(PermissionDenied, match="只读"):
            saved_view_update(actor=service, view=view, name="改名")
        with pytest.raises(PermissionDenied):
            saved_view_delete(actor=service, view=view)
        # ...but it may be their default
        saved_view_set_default(actor=service, kind="requirements", view=view)
        assert DefaultView.objects.get(user=service).view == view

    def test_default_is_one_per_list_and_must_be_readable_and_of_that_list(self, users):
        sales = users["sales"]
        a = saved_view_create(actor=sales, kind="requirements", name="A", make_default=True)
        b = saved_view_create(actor=sales, kind="requirements", name="B", make_default=True)
        assert list(DefaultView.objects.filter(user=sales).values_list("view", flat=True)) == [b.pk]
        with pytest.raises(ValidationError, match="不属于这个列表"):
            saved_view_set_default(actor=sales, kind="customers", view=a)
        private = saved_view_create(actor=users["manager"], kind="requirements", name="经理的")
        with pytest.raises(ValidationError, match="无权使用"):
            saved_view_set_default(actor=sales, kind="requirements", view=private)
        with pytest.raises(ValidationError, match="未知的列表"):
            saved_view_set_default(actor=sales, kind="x", view=None)
        saved_view_set_default(actor=sales, kind="requirements", view=None)
        assert not DefaultView.objects.filter(user=sales).exists()

    def test_an_anonymous_or_inactive_user_saves_nothing(self, users):
        users["viewer"].is_active = False
        with pytest.raises(PermissionDenied):
            saved_view_create(actor=users["viewer"], kind="requirements", name="A")
        assert list(saved_view_list(user=None)) == []


# ---------------------------------------------------------------- nobody reads or edits another's private view

ATTEMPTS = st.sampled_from(["get", "rename", "share", "delete", "default", "list"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    owner_role=st.sampled_from(["admin", "manager", "product_manager", "sales", "service", "engineer", "viewer"]),
    intruder_role=st.sampled_from(["admin", "manager", "product_manager", "sales", "service", "engineer", "viewer"]),
    same_team=st.booleans(),
    superuser=st.booleans(),
    attempt=ATTEMPTS,
)
def test_nobody_reads_or_edits_another_users_private_view(db, owner_role, intruder_role, same_team, superuser, attempt):
    team = Team.objects.create(name=f"团队{Team.objects.count()}")
    n = User.objects.count()
    owner = User.objects.create_user(username=f"o{n}", role=owner_role, team=team)
    intruder = User.objects.create_user(
        username=f"i{n}", role=intruder_role, team=team if same_team else None, is_superuser=superuser
    )
    view = saved_view_create(actor=owner, kind="requirements", name="私人", query="sort=priority")
    before = SavedView.objects.values_list("name", "visibility", "query").get(pk=view.pk)
    if attempt == "list":
        assert view.pk not in {v.pk for v in saved_view_list(user=intruder)}
    elif attempt == "get":
        with pytest.raises(Http404):
            saved_view_get(user=intruder, pk=view.pk)
    elif attempt == "default":
        with pytest.raises(ValidationError):
            saved_view_set_default(actor=intruder, kind="requirements", view=view)
    else:
        with pytest.raises(PermissionDenied):
            if attempt == "delete":
                saved_view_delete(actor=intruder, view=view)
            else:
                change = {"name": "被改"} if attempt == "rename" else {"visibility": "team"}
                saved_view_update(actor=intruder, view=view, **change)
    assert SavedView.objects.values_list("name", "visibility", "query").get(pk=view.pk) == before
    assert not DefaultView.objects.filter(user=intruder).exists()
