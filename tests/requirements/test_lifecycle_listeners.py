"""Other apps hear of committed status moves (and only committed ones) and add sections to a requirement's pages."""

from typing import Any

import pytest
from django.db import transaction

from needpool.requirements import lifecycle
from needpool.requirements.services import requirement_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Any:
    events: list[lifecycle.StatusMoved] = []
    lifecycle.register_status_listener("test-listener", events.append)
    yield events
    lifecycle._status_listeners.pop("test-listener", None)


def test_a_committed_move_reaches_every_listener_with_its_facts(
    users: dict[str, Any], requirement: Any, heard: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        requirement_transition(actor=users["product_manager"], requirement=requirement, to="rejected", note="不做")
    assert heard == [
        lifecycle.StatusMoved(
            requirement_id=requirement.pk,
            source_key="new",
            source_category="new",
            target_key="rejected",
            target_category="rejected",
            actor_id=users["product_manager"].pk,
            note="不做",
        )
    ]


def test_a_move_rolled_back_is_never_heard(
    users: dict[str, Any], requirement: Any, heard: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        requirement_transition(actor=users["product_manager"], requirement=requirement, to="rejected", note="不做")
        transaction.set_rollback(True)
    assert heard == []


def test_one_failing_listener_does_not_stop_the_others(
    users: dict[str, Any], requirement: Any, heard: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    def broken(event: lifecycle.StatusMoved) -> None:
        raise RuntimeError("boom")

    lifecycle._status_listeners = {"aaa-broken": broken, **lifecycle._status_listeners}
    try:
        with django_capture_on_commit_callbacks(execute=True):
            requirement_transition(actor=users["product_manager"], requirement=requirement, to="deferred")
    finally:
        lifecycle._status_listeners.pop("aaa-broken", None)
    assert [e.target_key for e in heard] == ["deferred"]


def test_a_registered_section_shows_on_the_detail_page_only_when_it_has_something(
    client: Any, users: dict[str, Any], requirement: Any, tmp_path: Any, settings: Any
) -> None:
    template_dir = tmp_path / "templates"
    (template_dir / "t").mkdir(parents=True)
    (template_dir / "t" / "panel.html").write_text('<div class="card">面板 {{ requirement.code }} {{ word }}</div>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [template_dir, *settings.TEMPLATES[0]["DIRS"]]}]
    shown = {"on": True}
    lifecycle.register_section(
        lifecycle.Section(
            key="test-panel",
            label=lambda: "测试面板",
            order=5,
            template="t/panel.html",
            context=lambda req, user: {"word": "<b>x</b>"} if shown["on"] else None,
        )
    )
    try:
        client.force_login(users["product_manager"])
        page = client.get(f"/requirements/{requirement.pk}/").content.decode()
        assert 'id="section-test-panel"' in page and f"面板 {requirement.code} &lt;b&gt;x&lt;/b&gt;" in page
        shown["on"] = False
        assert 'id="section-test-panel"' not in client.get(f"/requirements/{requirement.pk}/").content.decode()
        assert [s.key for s in lifecycle.sections("dossier")].count("test-panel") == 1
        assert "test-panel" not in [s.key for s in lifecycle.sections("nowhere")]
    finally:
        lifecycle._sections.pop("test-panel", None)
