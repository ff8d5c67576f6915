"""The stale edit form of a requirement: a form opened before someone else saved is merged when the changes do not
overlap, and otherwise shows "此记录在您打开后已被他人修改" with the differences and a way to resolve them."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.models import Requirement

TEXT_FIELDS = ("title", "description", "background", "concrete_ask")


def _opened(client: Client, requirement: Requirement) -> dict[str, Any]:
    """What the edit page posts back unchanged: every field as opened, the version and the opened values."""
    form = client.get(reverse("requirements:edit", args=[requirement.pk])).context["form"]
    return {k: v for k, v in form.initial.items() if v is not None}


def _save(client: Client, requirement: Requirement, data: dict[str, Any]) -> Any:
    return client.post(reverse("requirements:edit", args=[requirement.pk]), data)


def _clients(users: dict[str, Any]) -> tuple[Client, Client]:
    first, second = Client(), Client()
    first.force_login(users["product_manager"])
    second.force_login(users["manager"])
    return first, second


def test_the_form_carries_the_version_and_the_values_it_was_opened_with(client, users, requirement):
    client.force_login(users["product_manager"])
    html = client.get(reverse("requirements:edit", args=[requirement.pk])).content.decode()
    assert 'name="version" value="1"' in html
    assert 'name="opened"' in html


def test_two_forms_saving_different_fields_keep_both_changes(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    assert _save(first, requirement, {**a, "title": "甲改的标题"}).status_code == 302
    response = _save(second, requirement, {**b, "description": "乙改的描述"})
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert (requirement.title, requirement.description) == ("甲改的标题", "乙改的描述")
    assert requirement.version == 3
    page = second.get(response["Location"]).content.decode()
    assert "已一并保留" in page


def test_two_forms_saving_one_field_differently_show_the_differences_and_save_nothing(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "甲改的标题"})
    response = _save(second, requirement, {**b, "title": "乙改的标题", "background": "乙补充的背景"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "此记录在您打开后已被他人修改" in html
    assert "甲改的标题" in html and "乙改的标题" in html  # their value now, your value
    assert response.context["conflicts"][0].name == "title"
    assert [d.name for d in response.context["conflicts"]] == ["title"]  # background did not conflict
    requirement.refresh_from_db()
    assert (requirement.title, requirement.background, requirement.version) == (
        "甲改的标题",
        "客户年采购额超过 500 万，批量订单多",
        2,
    )
    assert 'name="version" value="2"' in html  # the next save is against the new version


def _conflict_page_post(response: Any) -> dict[str, Any]:
    form = response.context["form"]
    data: dict[str, Any] = {}
    for key, values in form.data.lists():
        data[key] = values if len(values) > 1 or key == "tags" else values[0]
    return data


def test_keep_theirs_for_the_conflict_saves_only_my_other_changes(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "甲改的标题"})
    page = _save(second, requirement, {**b, "title": "乙改的标题", "background": "乙补充的背景"})
    resolved = _save(second, requirement, {**_conflict_page_post(page), "pick_title": "theirs", "resolve": "picked"})
    assert resolved.status_code == 302
    requirement.refresh_from_db()
    assert (requirement.title, requirement.background) == ("甲改的标题", "乙补充的背景")


def test_use_mine_overwrites_the_conflict_knowingly(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "甲改的标题"})
    page = _save(second, requirement, {**b, "title": "乙改的标题"})
    resolved = _save(second, requirement, {**_conflict_page_post(page), "pick_title": "theirs", "resolve": "mine"})
    assert resolved.status_code == 302
    requirement.refresh_from_db()
    assert requirement.title == "乙改的标题"


def test_keep_all_theirs_saves_nothing_of_the_conflicting_fields(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "甲改的标题"})
    page = _save(second, requirement, {**b, "title": "乙改的标题"})
    resolved = _save(second, requirement, {**_conflict_page_post(page), "pick_title": "mine", "resolve": "theirs"})
    assert resolved.status_code == 302
    requirement.refresh_from_db()
    assert (requirement.title, requirement.version) == ("甲改的标题", 2)


def test_a_conflict_page_saved_after_yet_another_change_shows_the_conflict_again(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "甲改的标题"})
    page = _save(second, requirement, {**b, "title": "乙改的标题"})
    _save(first, requirement, {**_opened(first, requirement), "title": "甲又改了"})
    again = _save(second, requirement, {**_conflict_page_post(page), "resolve": "picked"})
    assert again.status_code == 409 and "甲又改了" in again.content.decode()
    requirement.refresh_from_db()
    assert requirement.title == "甲又改了"


def test_the_same_change_made_by_both_is_not_a_conflict(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "同样的标题"})
    assert _save(second, requirement, {**b, "title": "同样的标题", "description": "乙的描述"}).status_code == 302
    requirement.refresh_from_db()
    assert (requirement.title, requirement.description) == ("同样的标题", "乙的描述")


def test_a_stale_form_that_changed_nothing_saves_nothing(users, requirement):
    first, second = _clients(users)
    a, b = _opened(first, requirement), _opened(second, requirement)
    _save(first, requirement, {**a, "title": "甲改的标题"})
    assert _save(second, requirement, b).status_code == 302
    requirement.refresh_from_db()
    assert (requirement.title, requirement.version) == ("甲改的标题", 2)


def test_an_api_edit_made_while_the_form_was_open_is_not_reverted(api, users, requirement):
    first, _second = _clients(users)
    a = _opened(first, requirement)
    api(users["manager"]).patch(f"/api/v1/requirements/{requirement.pk}/", {"priority": "P1"}, format="json")
    assert _save(first, requirement, {**a, "title": "甲改的标题"}).status_code == 302
    requirement.refresh_from_db()
    assert (requirement.title, requirement.priority) == ("甲改的标题", "P1")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    theirs=st.dictionaries(st.sampled_from(TEXT_FIELDS), st.sampled_from(["甲", "同"]), max_size=3),
    mine=st.dictionaries(st.sampled_from(TEXT_FIELDS), st.sampled_from(["乙", "同"]), max_size=3),
)
def test_no_stale_form_silently_reverts_another_persons_change(users, requirement, theirs, mine):
    """Whatever two people change in two forms opened at once, the second save never undoes the first: either
    both changes are kept, or (a field changed to different values) nothing of the second is saved."""
    first, second = _clients(users)
    requirement.refresh_from_db()
    a, b = _opened(first, requirement), _opened(second, requirement)
    stamp = f"{requirement.version}"
    their_values = {k: f"{v}{stamp}" for k, v in theirs.items()}
    my_values = {k: f"{v}{stamp}" for k, v in mine.items()}
    _save(first, requirement, {**a, **their_values})
    response = _save(second, requirement, {**b, **my_values})
    requirement.refresh_from_db()
    now = {k: getattr(requirement, k) for k in TEXT_FIELDS}
    clash = [k for k in my_values if k in their_values and my_values[k] != their_values[k]]
    if clash:
        assert response.status_code == 409
        assert {d.name for d in response.context["conflicts"]} == set(clash)
        for k, v in their_values.items():
            assert now[k] == v
    else:
        assert response.status_code == 302
        for k, v in {**their_values, **my_values}.items():
            assert now[k] == v


# ---------------------------------------------------------------- a move from a page that is out of date


def test_a_move_from_an_out_of_date_page_says_the_current_status(users, requirement):
    first, second = _clients(users)
    url = reverse("requirements:transition", args=[requirement.pk])
    assert (
        'name="from" value="new"' in second.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    )
    first.post(url, {"to": "in_progress", "from": "new"})
    response = second.post(url, {"to": "rejected", "from": "new", "note": "重复"}, follow=True)
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    assert "处理中" in text and "他人" in text
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"


def test_the_board_gets_409_with_the_current_status(users, requirement):
    first, second = _clients(users)
    url = reverse("requirements:transition", args=[requirement.pk])
    first.post(url, {"to": "in_progress"})
    response = second.post(url, {"to": "in_progress", "from": "new"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert response.json()["status"] == "in_progress" and response.json()["status_label"] == "处理中"
