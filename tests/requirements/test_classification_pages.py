"""The classification pages: admins only, add / edit / deactivate / move, the history old → new on the page,
the review action, the rule version on the requirement page; bounded query counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from needpool.requirements.choices import Dimension
from needpool.requirements.models import ClassificationReview, ClassOption
from needpool.requirements.services import current_rule_version, option_create, option_update
from tests.conftest import ALL_ROLES, option

pytestmark = pytest.mark.django_db

INDEX = "/settings/classification/"


@pytest.fixture
def admin_client_(client, users):
    client.force_login(users["admin"])
    return client


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r != "admin"])
def test_only_admins_see_or_post_the_pages(client, users, role):
    client.force_login(users[role])
    tag = option("tag", "efficiency")
    for url in [INDEX, f"{INDEX}tag/", f"{INDEX}tag/add/", f"{INDEX}options/{tag.pk}/edit/"]:
        assert client.get(url).status_code == 403
    for url, data in [
        (f"{INDEX}tag/add/", {"key": "x", "label": "x"}),
        (f"{INDEX}options/{tag.pk}/edit/", {"key": "x", "label": "x"}),
        (f"{INDEX}options/{tag.pk}/active/", {"active": "0"}),
        (f"{INDEX}options/{tag.pk}/move/", {"direction": "up"}),
        (f"{INDEX}review/", {"note": "x"}),
    ]:
        assert client.post(url, data).status_code == 403
    assert option("tag", "efficiency").is_active and not ClassificationReview.objects.exists()
    assert "nav-classification" not in client.get("/").content.decode()


def test_an_admin_has_the_menu_link(admin_client_):
    assert 'id="nav-classification"' in admin_client_.get("/").content.decode()


@pytest.mark.parametrize("dimension", Dimension.values)
def test_every_dimension_page_lists_its_options(admin_client_, dimension, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        page = admin_client_.get(f"{INDEX}{dimension}/")
    assert page.status_code == 200
    body = page.content.decode()
    for o in ClassOption.objects.filter(dimension=dimension):
        assert f'id="option-{o.pk}"' in body
    assert ("首次响应" in body) is (dimension == "urgency")


def test_the_history_page_is_bounded(admin_client_, users, django_assert_max_num_queries):
    tag = option("tag", "efficiency")
    for n in range(30):
        option_update(actor=users["admin"], option=tag, description=f"说明 {n}")
    with django_assert_max_num_queries(14):
        page = admin_client_.get(f"{INDEX}tag/")
    assert page.content.decode().count("history-entry") == 20
    with django_assert_max_num_queries(12):
        overview = admin_client_.get(INDEX)
    assert overview.content.decode().count('rule-version"') + overview.content.decode().count("rule-version ") >= 20


def test_unknown_dimension_and_option_are_404(admin_client_):
    assert admin_client_.get(f"{INDEX}colour/").status_code == 404
    assert admin_client_.get(f"{INDEX}colour/add/").status_code == 404
    assert admin_client_.get(f"{INDEX}options/999999/edit/").status_code == 404


def test_add_an_urgency_and_see_it_with_its_history(admin_client_):
    answer = admin_client_.post(
        f"{INDEX}urgency/add/",
        {"label": "特急", "label_en": "Critical", "key": "critical", "sla_hours": "4", "is_active": "on"},
    )
    assert answer.status_code == 302
    made = ClassOption.objects.get(dimension="urgency", key="critical")
    assert made.sla_hours == 4 and made.is_active
    page = admin_client_.get(f"{INDEX}urgency/").content.decode()
    assert "特急" in page and "首次响应 4 小时" in page and "history-entry" in page


def test_bad_input_shows_chinese_messages_and_saves_nothing(admin_client_):
    count = ClassOption.objects.count()
    answer = admin_client_.post(f"{INDEX}urgency/add/", {"label": "紧急", "key": "Bad Key", "sla_hours": "0"})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "名称“紧急”已在“紧急程度”中使用" in body
    assert "小写英文字母" in body
    assert "首次响应时限须为 1 到 8760 之间的整数" in body
    answer = admin_client_.post(f"{INDEX}urgency/add/", {"label": "新的", "key": "fresh", "sla_hours": "abc"})
    assert answer.status_code == 400
    assert re.search(r"首次响应时限[^<]*整数", answer.content.decode())
    assert ClassOption.objects.count() == count


def test_edit_shows_old_to_new_and_refuses_a_stale_form(admin_client_, users):
    urgent = option("urgency", "urgent")
    form = admin_client_.get(f"{INDEX}options/{urgent.pk}/edit/")
    assert form.status_code == 200 and 'value="24"' in form.content.decode()
    data = {"label": "紧急", "key": "urgent", "sla_hours": "12", "sort_order": "10", "is_active": "on", "version": "1"}
    assert admin_client_.post(f"{INDEX}options/{urgent.pk}/edit/", data).status_code == 302
    page = admin_client_.get(f"{INDEX}urgency/").content.decode()
    assert '<del class="text-secondary">24</del> → 12' in page
    stale = admin_client_.post(f"{INDEX}options/{urgent.pk}/edit/", {**data, "sla_hours": "6"})
    assert stale.status_code == 400 and "已被他人修改" in stale.content.decode()
    assert option("urgency", "urgent").sla_hours == 12


def test_a_category_gets_a_parent_but_not_a_cycle(admin_client_, users):
    group = option_create(actor=users["admin"], dimension="category", key="nf", label="非功能需求")
    perf = option("category", "performance")
    data = {"label": perf.label, "key": perf.key, "parent": group.pk, "is_active": "on", "version": perf.version}
    assert admin_client_.post(f"{INDEX}options/{perf.pk}/edit/", data).status_code == 302
    group.refresh_from_db()
    back = {"label": group.label, "key": group.key, "parent": perf.pk, "is_active": "on", "version": group.version}
    answer = admin_client_.post(f"{INDEX}options/{group.pk}/edit/", back)
    assert answer.status_code == 400 and "自己下级" in answer.content.decode()


def test_deactivate_reactivate_and_move(admin_client_):
    tag = option("tag", "efficiency")
    admin_client_.post(f"{INDEX}options/{tag.pk}/active/", {"active": "0"})
    assert not option("tag", "efficiency").is_active
    admin_client_.post(f"{INDEX}options/{tag.pk}/active/", {"active": "1"})
    assert option("tag", "efficiency").is_active
    last = list(ClassOption.objects.filter(dimension="tag").order_by("sort_order"))
    admin_client_.post(f"{INDEX}options/{last[-1].pk}/move/", {"direction": "up"})
    assert list(ClassOption.objects.filter(dimension="tag").order_by("sort_order"))[-2] == last[-1]
    answer = admin_client_.post(f"{INDEX}options/{tag.pk}/move/", {"direction": "sideways"}, follow=True)
    assert "请选择上移或下移" in answer.content.decode()


def test_deactivating_the_last_option_is_refused_with_a_message(admin_client_, users):
    from needpool.requirements.services import option_set_active

    option_set_active(actor=users["admin"], option=option("source", "implicit"), active=False)
    explicit = option("source", "explicit")
    answer = admin_client_.post(f"{INDEX}options/{explicit.pk}/active/", {"active": "0"}, follow=True)
    assert "至少要保留一个" in answer.content.decode()
    assert option("source", "explicit").is_active


def test_mark_reviewed(admin_client_):
    page = admin_client_.get(INDEX).content.decode()
    assert "尚未复核过" in page and f"v{current_rule_version()}" in page
    answer = admin_client_.post(f"{INDEX}review/", {"note": "本季度无需调整"}, follow=True)
    body = answer.content.decode()
    assert "已复核" in body and "本季度无需调整" in body
    too_long = admin_client_.post(f"{INDEX}review/", {"note": "长" * 301}, follow=True)
    assert "最多 300 个字" in too_long.content.decode()


def test_the_requirement_page_shows_its_rule_version(client, users, requirement):
    client.force_login(users["sales"])
    body = client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert f"分类规则 v{requirement.rule_version}" in body and 'id="rule-version"' in body
    assert "/settings/classification/" not in body.split('id="rule-version"')[1][:200]
    client.force_login(users["admin"])
    body = client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert "/settings/classification/" in body.split('id="rule-version"')[1][:200]


@pytest.mark.parametrize(("dimension", "parent", "sla"), [("category", True, False), ("urgency", False, True)])
def test_the_add_form_offers_the_fields_of_its_dimension(admin_client_, dimension, parent, sla):
    body = admin_client_.get(f"{INDEX}{dimension}/add/").content.decode()
    assert ('name="parent"' in body) is parent
    assert ('name="sla_hours"' in body) is sla


def test_a_requirement_without_a_recorded_version_shows_no_line(client, users, requirement):
    from needpool.requirements.models import Requirement

    Requirement.objects.filter(pk=requirement.pk).update(rule_version=None)
    client.force_login(users["admin"])
    assert 'id="rule-version"' not in client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
