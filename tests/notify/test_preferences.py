"""Each user chooses per kind where they hear of it; defaults by role; the page, its language, and who may edit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.roles import Role
from needpool.core.models import AuditEntry, Notification
from needpool.notify.kinds import Channel, EventKind, default_channels
from needpool.notify.models import Delivery, Preference
from needpool.notify.services import (
    digest_prepare,
    preferences_reset,
    preferences_set,
    user_language_set,
)

pytestmark = pytest.mark.django_db

URL = "/notify/preferences/"


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("kind", EventKind.values)
def test_role_defaults_are_respected_for_every_kind(make_user: Any, send_event: Any, role: str, kind: str) -> None:
    user = make_user(role, f"u-{role}", email=f"{role}@example.com")
    event = send_event([user], kind=kind)
    assert event is not None
    expected = set(default_channels(kind, role))
    assert Notification.objects.filter(recipient=user).exists() == (Channel.INAPP in expected)
    assert bool(mail.outbox) == (Channel.MAIL in expected)
    assert Delivery.objects.filter(target=f"mail:{user.pk}").exists() == (Channel.MAIL in expected)
    run = digest_prepare(user=user, now=timezone.now() + dt.timedelta(minutes=1))
    assert (run is not None and run.events == [event.pk]) == (Channel.DIGEST in expected)


@pytest.mark.parametrize("kind", EventKind.values)
def test_a_saved_choice_beats_the_role_default(make_user: Any, send_event: Any, kind: str) -> None:
    user = make_user(Role.VIEWER, "v", email="v@example.com")
    preferences_set(actor=user, user=user, choices={kind: [Channel.MAIL]})
    send_event([user], kind=kind)
    assert not Notification.objects.exists()
    assert [m.to for m in mail.outbox] == [["v@example.com"]]
    assert digest_prepare(user=user, now=timezone.now() + dt.timedelta(minutes=1)) is None


def test_the_role_differences() -> None:
    for kind in EventKind.values:
        assert Channel.MAIL not in default_channels(kind, Role.VIEWER)
    for role in (Role.SALES, Role.SERVICE):
        for kind in (EventKind.LOW_SCORE, EventKind.FOLLOW_UP, EventKind.CLOSE_LOOP):
            assert Channel.MAIL in default_channels(kind, role)
    assert Channel.MAIL not in default_channels(EventKind.LOW_SCORE, Role.ENGINEER)
    assert Channel.MAIL in default_channels(EventKind.ASSIGNED, Role.ENGINEER)
    assert default_channels(EventKind.STATUS, Role.MANAGER) == default_channels(EventKind.STATUS)


def test_the_actor_hears_nothing_whatever_they_chose(make_user: Any, send_event: Any) -> None:
    actor = make_user(Role.PRODUCT_MANAGER, "pm", email="pm@example.com")
    preferences_set(actor=actor, user=actor, choices={EventKind.ASSIGNED: list(Channel.values)})
    send_event([actor], actor=actor)
    assert not Notification.objects.exists() and not mail.outbox


def test_unknown_kinds_or_channels_write_nothing(make_user: Any) -> None:
    user = make_user(Role.SALES, "s")
    preferences_set(actor=user, user=user, choices={EventKind.STATUS: [Channel.INAPP]})
    with pytest.raises(ValidationError) as bad_kind:
        preferences_set(actor=user, user=user, choices={EventKind.STATUS: [], "nonsense": [Channel.MAIL]})
    assert "未知的通知类型：nonsense" in bad_kind.value.messages
    with pytest.raises(ValidationError) as bad_channel:
        preferences_set(actor=user, user=user, choices={EventKind.STATUS: ["fax"], EventKind.TASK: []})
    assert "未知的通知渠道：fax" in bad_channel.value.messages
    assert dict(Preference.objects.values_list("kind", "channels")) == {EventKind.STATUS: [Channel.INAPP]}


def test_a_user_edits_only_their_own_an_admin_anyones(users: dict[str, Any]) -> None:
    sales, engineer, admin = users["sales"], users["engineer"], users["admin"]
    with pytest.raises(PermissionDenied):
        preferences_set(actor=engineer, user=sales, choices={EventKind.STATUS: []})
    with pytest.raises(PermissionDenied):
        preferences_reset(actor=engineer, user=sales)
    with pytest.raises(PermissionDenied):
        user_language_set(actor=engineer, user=sales, language="en")
    preferences_set(actor=admin, user=sales, choices={EventKind.STATUS: []})
    assert Preference.objects.get(user=sales).channels == []
    assert AuditEntry.objects.filter(object_id=sales.pk, actor=admin).exists()
    assert preferences_reset(actor=admin, user=sales) == 1 and not Preference.objects.exists()


def test_language_is_checked(make_user: Any) -> None:
    user = make_user(Role.SALES, "s")
    with pytest.raises(ValidationError):
        user_language_set(actor=user, user=user, language="fr")
    user_language_set(actor=user, user=user, language="en")
    user.refresh_from_db()
    assert user.language == "en"


# ---------------------------------------------------------------- the page


def test_the_page_shows_defaults_ticked_and_saves_the_matrix(client: Any, make_user: Any) -> None:
    user = make_user(Role.SALES, "s")
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert 'id="preference-matrix"' in html and "你负责的需求即将或已经超过处理时限" in html
    assert 'name="ch-low_score" value="mail" aria-label="低分反馈 · 邮件" checked' in html
    posted = {"ch-assigned": ["inapp", "digest"], "ch-status": [], "language": "en"}
    response = client.post(URL, posted)
    assert response.status_code == 302
    prefs = dict(Preference.objects.filter(user=user).values_list("kind", "channels"))
    assert prefs[EventKind.ASSIGNED] == ["inapp", "digest"]
    assert prefs[EventKind.STATUS] == [] and set(prefs) == set(EventKind.values)  # the whole matrix, unticked = off
    user.refresh_from_db()
    assert user.language == "en"


def test_reset_brings_the_defaults_back(client: Any, make_user: Any) -> None:
    user = make_user(Role.SALES, "s")
    preferences_set(actor=user, user=user, choices={EventKind.STATUS: []})
    client.force_login(user)
    response = client.post(reverse("notify:preferences_reset"), follow=True)
    assert "已恢复默认通知设置" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_bad_post_says_why_and_writes_nothing(client: Any, make_user: Any) -> None:
    user = make_user(Role.SALES, "s")
    client.force_login(user)
    response = client.post(URL, {"ch-assigned": ["inapp", "carrier-pigeon"], "language": "en"})
    assert response.status_code == 200
    assert "未知的通知渠道：carrier-pigeon" in response.content.decode()
    user.refresh_from_db()
    assert not Preference.objects.exists() and user.language == ""


def test_id_tampering_opens_nobody_elses_preferences(client: Any, users: dict[str, Any]) -> None:
    sales, engineer = users["sales"], users["engineer"]
    client.force_login(engineer)
    for url in (f"{URL}?user={sales.pk}", f"{URL}?user=abc", f"{URL}?user=99999999999999999999"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"ch-assigned": []}).status_code == 404
    assert client.post(f"{reverse('notify:preferences_reset')}?user={sales.pk}").status_code == 404
    assert not Preference.objects.filter(user=sales).exists()
    client.force_login(users["admin"])
    assert client.get(f"{URL}?user={sales.pk}").status_code == 200
    client.post(f"{URL}?user={sales.pk}", {"ch-assigned": ["mail"]})
    assert Preference.objects.get(user=sales, kind=EventKind.ASSIGNED).channels == ["mail"]


# Field names and values a browser can carry intact in a form post (control characters and quotes break the
# multipart encoding of the test client itself, so the server would not see the name that was generated).
_FORM_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='"\\'), max_size=12)
NAMES = st.one_of(st.sampled_from(EventKind.values), _FORM_TEXT)
VALUES = st.lists(st.one_of(st.sampled_from(Channel.values), _FORM_TEXT), max_size=4)


@given(posted=st.dictionaries(NAMES, VALUES, max_size=5), other=st.booleans())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_posted_strings_never_store_anything_outside_the_choices(
    client: Any, users: dict[str, Any], posted: dict[str, list[str]], other: bool
) -> None:
    me, them = users["engineer"], users["sales"]
    client.force_login(me)
    theirs = list(Preference.objects.filter(user=them).values_list("kind", "channels"))
    before = list(Preference.objects.filter(user=me).order_by("kind").values_list("kind", "channels"))
    data = {f"ch-{name}": values for name, values in posted.items() if "\x00" not in name}
    data = {k: [v for v in vs if "\x00" not in v] for k, vs in data.items()}
    url = f"{URL}?user={them.pk}" if other else URL
    response = client.post(url, data)
    if other:
        assert response.status_code == 404
    for kind, channels in Preference.objects.values_list("kind", "channels"):
        assert kind in EventKind.values and set(channels) <= set(Channel.values)
    assert list(Preference.objects.filter(user=them).values_list("kind", "channels")) == theirs
    # A name with no value ticked is not in a form post at all: only what is sent can be refused.
    valid = all(
        name[3:] in EventKind.values and set(values) <= set(Channel.values) for name, values in data.items() if values
    )
    if not valid or other:
        after = list(Preference.objects.filter(user=me).order_by("kind").values_list("kind", "channels"))
        assert after == before


# ---------------------------------------------------------------- the user's language on their pages


def test_the_users_language_is_their_pages_language(client: Any, make_user: Any) -> None:
    english = make_user(Role.SALES, "en-user", language="en")
    client.force_login(english)
    assert '<html lang="en">' in client.get(URL).content.decode()
    chinese = make_user(Role.SALES, "zh-user", language="zh-hans")
    client.force_login(chinese)
    client.cookies["django_language"] = "en"
    assert '<html lang="zh-hans">' in client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_without_a_language_the_cookie_and_setlang_still_decide(client: Any, make_user: Any) -> None:
    user = make_user(Role.SALES, "plain")
    client.force_login(user)
    assert '<html lang="zh-hans">' in client.get(URL).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": URL})
    assert '<html lang="en">' in client.get(URL).content.decode()
