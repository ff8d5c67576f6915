"""The requirement services tell people through typed events: who hears a new owner, a status move, a priority
change, a comment or @mention and an SLA breach; the person who made the change never does; nobody hears one
change twice; a rolled-back change tells nobody."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team, User
from needpool.core.models import Notification
from needpool.notify.kinds import EventKind
from needpool.notify.models import Event
from needpool.requirements.models import Comment, Requirement
from needpool.requirements.services import (
    comment_create,
    requirement_transition,
    requirement_update,
    requirements_priority_set,
    sla_mark_breaches,
)

pytestmark = pytest.mark.django_db


def events(kind: str, requirement: Requirement) -> list[Event]:
    return list(Event.objects.filter(kind=kind, subject__id=requirement.pk).order_by("pk"))


def heard(kind: str, requirement: Requirement) -> set[int]:
    return {pk for e in events(kind, requirement) for pk in e.recipients}


@pytest.fixture
def watched(requirement: Requirement, users: dict[str, User]) -> Requirement:
    """The fixture requirement (owner sales, team 销售一部) watched by engineer and compliance."""
    requirement.watchers.add(users["engineer"], users["compliance"])
    return requirement


# ---------------------------------------------------------------- owner


@pytest.mark.parametrize("actor_role", ["manager", "product_manager", "admin"])
def test_a_new_owner_hears_assigned_the_old_owner_and_watchers_hear_owner(
    watched: Requirement, users: dict[str, User], actor_role: str
) -> None:
    actor, old, new = users[actor_role], users["sales"], users["service"]
    requirement_update(actor=actor, requirement=watched, owner=new)
    assigned = events(EventKind.ASSIGNED, watched)
    assert len(assigned) == 1 and assigned[0].recipients == [new.pk]
    assert assigned[0].teams == [new.team_id] and assigned[0].subject["code"] == watched.code
    assert assigned[0].data["from"] == old.pk and assigned[0].data["to"] == new.pk
    assert heard(EventKind.OWNER, watched) == {old.pk, users["engineer"].pk, users["compliance"].pk}
    notice = Notification.objects.get(recipient=new, kind=EventKind.ASSIGNED)
    assert notice.text == f"{actor} 把需求 {watched.code}「{watched.title}」指派给你"
    assert notice.url == f"/requirements/{watched.pk}/"


def test_the_owner_who_hands_over_is_not_told_of_it(watched: Requirement, users: dict[str, User]) -> None:
    requirement_update(actor=users["sales"], requirement=watched, owner=users["service"])
    assert users["sales"].pk not in heard(EventKind.OWNER, watched)
    assert heard(EventKind.ASSIGNED, watched) == {users["service"].pk}


def test_an_edit_without_a_new_owner_or_priority_tells_nobody(watched: Requirement, users: dict[str, User]) -> None:
    before = Event.objects.count()
    requirement_update(actor=users["product_manager"], requirement=watched, title="按客户等级设置折扣")
    assert Event.objects.count() == before


# ---------------------------------------------------------------- status and priority


def test_a_status_move_tells_the_owner_and_watchers_with_from_and_to(
    watched: Requirement, users: dict[str, User]
) -> None:
    requirement_transition(actor=users["product_manager"], requirement=watched, to="in_progress")
    (event,) = events(EventKind.STATUS, watched)
    assert set(event.recipients) == {users["sales"].pk, users["engineer"].pk, users["compliance"].pk}
    assert event.data["from"] == "new" and event.data["to"] == "in_progress"
    assert event.params["from"] == event.data["from_label"] and event.teams == [users["sales"].team_id]
    text = Notification.objects.get(recipient=users["engineer"], kind=EventKind.STATUS).text
    assert watched.code in text and event.data["to_label"] in text


@pytest.mark.parametrize("mover", ["sales", "engineer"])
def test_the_mover_is_never_told_of_their_own_move(watched: Requirement, users: dict[str, User], mover: str) -> None:
    requirement_transition(actor=users[mover], requirement=watched, to="in_progress")
    recipients = heard(EventKind.STATUS, watched)
    assert users[mover].pk not in recipients and recipients


def test_a_priority_change_by_hand_and_by_analysis_tells_owner_and_watchers(
    watched: Requirement, users: dict[str, User]
) -> None:
    requirement_update(actor=users["product_manager"], requirement=watched, priority="P1")
    requirements_priority_set(actor=None, priorities=[(watched.pk, "P0")], reason="重新计算")
    by_hand, by_job = events(EventKind.PRIORITY, watched)
    expected = {users["sales"].pk, users["engineer"].pk, users["compliance"].pk}
    assert set(by_hand.recipients) == expected == set(by_job.recipients)
    assert (by_hand.data, by_job.data) == ({"from": "", "to": "P1"}, {"from": "P1", "to": "P0"})
    texts = list(Notification.objects.filter(recipient=users["sales"], kind=EventKind.PRIORITY).values_list("text"))
    assert (f"需求 {watched.code}「{watched.title}」的优先级从 P1 改为 P0",) in texts


# ---------------------------------------------------------------- comments and mentions


def test_a_comment_tells_owner_watchers_and_earlier_commenters_and_mentions_only_once(
    watched: Requirement, users: dict[str, User]
) -> None:
    comment_create(actor=users["manager"], requirement=watched, body="先看一下")
    comment = comment_create(
        actor=users["product_manager"], requirement=watched, body="@engineer 请评估工作量 @product_manager"
    )
    (mention,) = Event.objects.filter(key=f"mention:{comment.pk}")
    (said,) = Event.objects.filter(key=f"comment:{comment.pk}")
    assert mention.kind == EventKind.MENTION and mention.recipients == [users["engineer"].pk]
    assert set(said.recipients) == {users["sales"].pk, users["compliance"].pk, users["manager"].pk}
    assert said.url.endswith(f"#comment-{comment.pk}") and said.params["excerpt"].startswith("@engineer")
    about_it = Notification.objects.filter(recipient=users["engineer"], url__endswith=f"#comment-{comment.pk}")
    assert list(about_it.values_list("kind", flat=True)) == [EventKind.MENTION]


def test_a_long_comment_is_shortened_in_the_sentence(watched: Requirement, users: dict[str, User]) -> None:
    comment = comment_create(actor=users["manager"], requirement=watched, body="长" * 300)
    said = Event.objects.get(key=f"comment:{comment.pk}")
    assert len(said.params["excerpt"]) == 80 and said.params["excerpt"].endswith("…")


# ---------------------------------------------------------------- SLA


def test_an_sla_breach_tells_the_owner_and_the_owners_team_lead_once(
    requirement: Requirement, users: dict[str, User], team: Team
) -> None:
    team.lead = users["manager"]
    team.save()
    Requirement.objects.filter(pk=requirement.pk).update(first_response_due=timezone.now() - dt.timedelta(hours=1))
    assert sla_mark_breaches() == 1
    assert sla_mark_breaches() == 0
    (event,) = events(EventKind.SLA, requirement)
    assert set(event.recipients) == {users["sales"].pk, users["manager"].pk}
    assert event.teams == [team.pk] and event.data["team_lead"] == users["manager"].pk
    assert Notification.objects.filter(kind=EventKind.SLA, recipient=users["manager"]).count() == 1


def test_an_sla_breach_without_a_team_lead_tells_the_owner(requirement: Requirement, users: dict[str, User]) -> None:
    Requirement.objects.filter(pk=requirement.pk).update(first_response_due=timezone.now() - dt.timedelta(hours=1))
    sla_mark_breaches()
    assert heard(EventKind.SLA, requirement) == {users["sales"].pk}


# ---------------------------------------------------------------- rollback


def test_a_rolled_back_change_tells_nobody(watched: Requirement, users: dict[str, User]) -> None:
    class Abort(Exception):
        pass

    before = (Event.objects.count(), Notification.objects.count())
    with pytest.raises(Abort), transaction.atomic():
        requirement_update(actor=users["product_manager"], requirement=watched, owner=users["service"], priority="P2")
        requirement_transition(actor=users["product_manager"], requirement=watched, to="in_progress")
        comment_create(actor=users["product_manager"], requirement=watched, body="@engineer 看看")
        assert Event.objects.count() > before[0]
        raise Abort
    assert (Event.objects.count(), Notification.objects.count()) == before


def test_a_refused_edit_tells_nobody(watched: Requirement, users: dict[str, User]) -> None:
    from django.core.exceptions import PermissionDenied

    before = Event.objects.count()
    with pytest.raises(PermissionDenied):
        requirement_update(actor=users["viewer"], requirement=watched, owner=users["service"])
    assert Event.objects.count() == before


# ---------------------------------------------------------------- property: never the actor, never twice

PEOPLE = 6


@pytest.fixture
def crowd(make_user: Any, team: Team) -> list[User]:
    return [make_user("product_manager", f"pm{i}", team=team if i % 2 else None) for i in range(PEOPLE)]


def _changes_tell_each_once(kinds: list[str], requirement: Requirement, actor: User, since: int) -> None:
    new = Event.objects.filter(pk__gt=since, subject__id=requirement.pk, kind__in=kinds)
    seen: list[int] = [pk for event in new for pk in event.recipients]
    assert actor.pk not in seen
    assert len(seen) == len(set(seen)), "someone heard one change twice"
    notices = Notification.objects.filter(recipient=actor, kind__in=kinds)
    assert not notices.exists()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    actor_as=st.sampled_from(["owner", "watcher", "commenter", "mentioned", "other"]),
    watchers=st.sets(st.integers(0, PEOPLE - 1), max_size=PEOPLE),
    commenters=st.sets(st.integers(0, PEOPLE - 1), max_size=3),
    mentioned=st.sets(st.integers(0, PEOPLE - 1), max_size=3),
    new_owner=st.integers(0, PEOPLE - 1),
    pick=st.integers(0, PEOPLE - 1),
)
def test_the_actor_never_hears_and_nobody_hears_one_change_twice(
    crowd: list[User],
    requirement: Requirement,
    actor_as: str,
    watchers: set[int],
    commenters: set[int],
    mentioned: set[int],
    new_owner: int,
    pick: int,
) -> None:
    with transaction.atomic():
        owner = crowd[0]
        Requirement.objects.filter(pk=requirement.pk).update(owner=owner)
        req = Requirement.objects.get(pk=requirement.pk)
        req.watchers.set([crowd[i] for i in watchers])
        for i in sorted(commenters):
            Comment.objects.create(requirement=req, author=crowd[i], body="早先的评论")
        pools = {
            "owner": [0],
            "watcher": sorted(watchers),
            "commenter": sorted(commenters),
            "mentioned": sorted(mentioned),
            "other": list(range(PEOPLE)),
        }
        choices = pools[actor_as] or [0]
        actor = crowd[choices[pick % len(choices)]]
        since = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        body = "请看 " + " ".join(f"@{crowd[i].username}" for i in sorted(mentioned))
        comment = comment_create(actor=actor, requirement=req, body=body)
        mention = Event.objects.filter(key=f"mention:{comment.pk}").first()
        said = Event.objects.get(key=f"comment:{comment.pk}")
        told_mention = set(mention.recipients) if mention else set()
        assert told_mention == {crowd[i].pk for i in mentioned} - {actor.pk}
        audience = {owner.pk, *(crowd[i].pk for i in watchers), *(crowd[i].pk for i in commenters)}
        assert set(said.recipients) == audience - told_mention - {actor.pk}
        _changes_tell_each_once([EventKind.MENTION, EventKind.COMMENT], req, actor, since)

        since = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        req = Requirement.objects.get(pk=req.pk)
        requirement_update(actor=actor, requirement=req, owner=crowd[new_owner])
        _changes_tell_each_once([EventKind.ASSIGNED, EventKind.OWNER], req, actor, since)

        since = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        requirement_transition(actor=actor, requirement=Requirement.objects.get(pk=req.pk), to="in_progress")
        _changes_tell_each_once([EventKind.STATUS], req, actor, since)
        transaction.set_rollback(True)
