"""Mail is rendered from templates in the recipient's language, links to the object and to the preferences."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from needpool.accounts.roles import Role
from needpool.notify.models import Delivery

pytestmark = pytest.mark.django_db


def _html(message: Any) -> str:
    (content, kind), *_ = message.alternatives
    assert kind == "text/html"
    return str(content)


def test_mail_in_chinese(make_user: Any, send_event: Any, settings: Any) -> None:
    settings.NEEDPOOL_SITE_URL = "https://pool.example.com"
    user = make_user(Role.PRODUCT_MANAGER, "zh", email="zh@example.com")
    actor = make_user(Role.MANAGER, "boss", display_name="王经理")
    send_event([user], actor=actor, url="/requirements/7/")
    (message,) = mail.outbox
    assert message.subject == "【需求池】张三 把需求 DEM20240301001 指派给你"
    assert message.to == ["zh@example.com"]
    assert "张三 把需求 DEM20240301001 指派给你" in message.body
    assert "https://pool.example.com/requirements/7/" in message.body
    assert "操作人：王经理" in message.body
    assert "更改通知设置: https://pool.example.com/notify/preferences/" in message.body
    html = _html(message)
    assert '<a href="https://pool.example.com/requirements/7/">张三 把需求 DEM20240301001 指派给你</a>' in html
    assert '<a href="https://pool.example.com/notify/preferences/">更改通知设置</a>' in html
    assert not re.search(r"""\sstyle\s*=|<style|<script""", html)


def test_mail_in_english(make_user: Any, send_event: Any) -> None:
    user = make_user(Role.PRODUCT_MANAGER, "en", email="en@example.com", language="en")
    send_event([user])
    (message,) = mail.outbox
    assert message.subject == "[Needpool] 张三 assigned requirement DEM20240301001 to you"
    assert "张三 assigned requirement DEM20240301001 to you" in message.body
    assert "指派给你" not in message.body and "指派给你" not in _html(message)


def test_mail_escapes_what_people_typed_and_links_only_to_this_site(make_user: Any, send_event: Any) -> None:
    user = make_user(Role.PRODUCT_MANAGER, "zh", email="zh@example.com")
    send_event([user], code="<b>x</b>", url="javascript:alert(1)")
    (message,) = mail.outbox
    html = _html(message)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "javascript:" not in html and "javascript:" not in message.body
    assert "<b>x</b>" in message.body  # the plain-text part is plain text


def test_no_address_is_skipped_not_retried(make_user: Any, send_event: Any) -> None:
    user = make_user(Role.PRODUCT_MANAGER, "nomail", email="")
    send_event([user])
    assert not mail.outbox
    assert Delivery.objects.get().status == Delivery.Status.SKIPPED
