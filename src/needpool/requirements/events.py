"""What the requirement services tell people, through the notification layer (``notify.emit``).

Each function is called by the service that makes the change, inside its transaction, once per requirement
and change: the event's key names the occurrence (the requirement's new version, the status change, the
comment), so a retried write tells nobody twice. Who hears of what:

- a new owner: ASSIGNED to the new owner; OWNER to the previous owner and the watchers;
- a status move: STATUS, a priority change: PRIORITY, a comment: COMMENT — to the owner and the watchers
  (a comment also to earlier commenters); @mentioned users get MENTION instead of COMMENT;
- an SLA breach: SLA to the owner and the owner's team lead.

The person who made the change never hears of it (``emit`` leaves the actor out). Sentences are gettext
msgids, filled per recipient in their language; labels of statuses are given in the site's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.notify.kinds import EventKind
from needpool.notify.services import Emission, emit_many, emit_one
from needpool.requirements.models import Comment, Requirement, WorkflowStatus

COMMENT_EXCERPT = 80


def subject_of(requirement: Requirement) -> dict[str, Any]:
    return {"type": "requirement", "id": requirement.pk, "code": requirement.code, "title": requirement.title}


def url_of(requirement: Requirement) -> str:
    return reverse("requirements:detail", args=[requirement.pk])


def teams_of(*users: User | None) -> list[int]:
    """The teams concerned: those of the given people (the owner first) that have one."""
    return list(dict.fromkeys(u.team_id for u in users if u is not None and u.team_id))


def name_of(user: User | None) -> str:
    return str(user) if user is not None else "—"


def label(value: Any) -> str:
    """A label in the site's language (a status name, a decision), the same whoever made the change."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(value) if value not in (None, "") else "—"


def watchers_of(requirement: Requirement, *, prefetched: Requirement | None = None) -> list[User]:
    """The requirement's active watchers: from ``prefetched``'s cache when the caller read them already (a bulk
    edit prefetches them once for the whole selection), else one query."""
    for source in (prefetched, requirement):
        cache = getattr(source, "_prefetched_objects_cache", {}) if source is not None else {}
        if source is not None and source.pk == requirement.pk and "watchers" in cache:
            return [u for u in cache["watchers"] if u.is_active]
    return list(requirement.watchers.filter(is_active=True))


def owner_of(requirement: Requirement, *, prefetched: Requirement | None = None) -> User | None:
    """The requirement's owner, from a cache when one holds it (no query), else one query."""
    if requirement.owner_id is None:
        return None
    for source in (requirement, prefetched):
        if source is not None and source.owner_id == requirement.owner_id and Requirement.owner.is_cached(source):
            return source.owner
    return User.objects.filter(pk=requirement.owner_id).first()


def _emission(
    kind: str,
    key: str,
    message: str,
    requirement: Requirement,
    *,
    actor: User | None,
    recipients: Iterable[User | None],
    owner: User | None,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    url: str = "",
) -> Emission:
    """What a requirement's event says and to whom (its code and title, its page, the owner's team)."""
    return Emission(
        kind=kind,
        key=key,
        message=message,
        params={
            "actor": name_of(actor),
            "code": requirement.code,
            "title": requirement.title,
            **(params or {}),
        },
        url=url or url_of(requirement),
        actor=actor,
        recipients=tuple(recipients),
        teams=tuple(teams_of(owner)),
        subject=subject_of(requirement),
        data=dict(data or {}),
    )


def _emit(*args: Any, **kwargs: Any) -> None:
    """Tell a requirement's event now: ``_emission``'s arguments."""
    emit_one(_emission(*args, **kwargs))


def tell_owner_changed(
    *,
    actor: User | None,
    requirement: Requirement,
    old_owner: User | None,
    new_owner: User | None,
    watchers: Sequence[User],
    occurrence: str,
) -> None:
    """A new owner hears that the requirement is theirs; the previous owner and the watchers that it moved."""
    data = {
        "from": old_owner.pk if old_owner else None,
        "to": new_owner.pk if new_owner else None,
        "from_label": name_of(old_owner),
        "to_label": name_of(new_owner),
    }
    if new_owner is not None:
        _emit(
            EventKind.ASSIGNED,
            f"assigned:{requirement.pk}:{occurrence}",
            gettext_noop("%(actor)s 把需求 %(code)s「%(title)s」指派给你"),
            requirement,
            actor=actor,
            recipients=[new_owner],
            owner=new_owner,
            data=data,
        )
    others = [u for u in [old_owner, *watchers] if u is not None and u.pk != getattr(new_owner, "pk", None)]
    _emit(
        EventKind.OWNER,
        f"owner:{requirement.pk}:{occurrence}",
        gettext_noop("%(actor)s 把需求 %(code)s「%(title)s」的负责人从 %(from)s 改为 %(to)s"),
        requirement,
        actor=actor,
        recipients=others,
        owner=new_owner or old_owner,
        params={"from": data["from_label"], "to": data["to_label"]},
        data=data,
    )


def tell_status_changed(
    *,
    actor: User | None,
    requirement: Requirement,
    source: WorkflowStatus | None,
    target: WorkflowStatus,
    change_id: int,
    owner: User | None,
    watchers: Sequence[User],
    note: str = "",
) -> None:
    data = {
        "from": getattr(source, "key", ""),
        "to": target.key,
        "from_label": label(source),
        "to_label": label(target),
        "note": note,
    }
    _emit(
        EventKind.STATUS,
        f"status:{requirement.pk}:{change_id}",
        gettext_noop("%(actor)s 把需求 %(code)s「%(title)s」的状态从“%(from)s”改为“%(to)s”"),
        requirement,
        actor=actor,
        recipients=[owner, *watchers],
        owner=owner,
        params={"from": data["from_label"], "to": data["to_label"]},
        data=data,
    )


@dataclass(frozen=True)
class PriorityChange:
    """One requirement's priority change, as ``tell_priorities_changed`` tells it."""

    requirement: Requirement
    before: str
    after: str
    occurrence: str
    owner: User | None
    watchers: Sequence[User]


def _priority_emission(actor: User | None, change: PriorityChange) -> Emission:
    message = (
        gettext_noop("%(actor)s 把需求 %(code)s「%(title)s」的优先级从 %(from)s 改为 %(to)s")
        if actor is not None
        else gettext_noop("需求 %(code)s「%(title)s」的优先级从 %(from)s 改为 %(to)s")
    )
    return _emission(
        EventKind.PRIORITY,
        f"priority:{change.requirement.pk}:{change.occurrence}",
        message,
        change.requirement,
        actor=actor,
        recipients=[change.owner, *change.watchers],
        owner=change.owner,
        params={"from": change.before or "—", "to": change.after or "—"},
        data={"from": change.before, "to": change.after},
    )


def tell_priority_changed(
    *,
    actor: User | None,
    requirement: Requirement,
    before: str,
    after: str,
    occurrence: str,
    owner: User | None,
    watchers: Sequence[User],
) -> None:
    tell_priorities_changed(
        actor=actor, changes=[PriorityChange(requirement, before, after, occurrence, owner, watchers)]
    )


def tell_priorities_changed(*, actor: User | None, changes: Sequence[PriorityChange]) -> None:
    """The owner and the watchers of each requirement hear of its new priority (one batch of statements)."""
    emit_many([_priority_emission(actor, change) for change in changes])


def tell_commented(*, actor: User, requirement: Requirement, comment: Comment, mentioned: Sequence[User]) -> None:
    """The mentioned hear MENTION; the owner, the watchers and earlier commenters COMMENT (not twice)."""
    owner = owner_of(requirement)
    url = f"{url_of(requirement)}#comment-{comment.pk}"
    excerpt = " ".join(comment.body.split())
    if len(excerpt) > COMMENT_EXCERPT:
        excerpt = excerpt[: COMMENT_EXCERPT - 1] + "…"
    data = {"comment": comment.pk, "excerpt": excerpt}
    if mentioned:
        _emit(
            EventKind.MENTION,
            f"mention:{comment.pk}",
            gettext_noop("%(actor)s 在需求 %(code)s 中提到了您"),
            requirement,
            actor=actor,
            recipients=mentioned,
            owner=owner,
            data=data,
            url=url,
        )
    commenters = User.objects.filter(
        pk__in=Comment.objects.filter(requirement=requirement).exclude(pk=comment.pk).values("author_id"),
        is_active=True,
    )
    told = {u.pk for u in mentioned}
    audience = [u for u in [owner, *watchers_of(requirement), *commenters] if u is not None and u.pk not in told]
    _emit(
        EventKind.COMMENT,
        f"comment:{comment.pk}",
        gettext_noop("%(actor)s 评论了需求 %(code)s「%(title)s」：%(excerpt)s"),
        requirement,
        actor=actor,
        recipients=audience,
        owner=owner,
        params={"excerpt": excerpt},
        data=data,
        url=url,
    )


def tell_sla_breached(requirements: Sequence[Requirement]) -> None:
    """Each breach: the owner and the owner's team lead (one query for all owners, one batch of statements)."""
    owner_ids = {r.owner_id for r in requirements if r.owner_id}
    owners = {u.pk: u for u in User.objects.filter(pk__in=owner_ids).select_related("team__lead")} if owner_ids else {}
    items = []
    for requirement in requirements:
        owner = owners.get(requirement.owner_id) if requirement.owner_id else None
        lead = owner.team.lead if owner is not None and owner.team_id and owner.team else None
        due = requirement.first_response_due.isoformat() if requirement.first_response_due else ""
        items.append(
            _emission(
                EventKind.SLA,
                f"sla:{requirement.pk}:{due or requirement.version}",
                gettext_noop("需求 %(code)s 已超过首次响应时限"),
                requirement,
                actor=None,
                recipients=[owner, lead],
                owner=owner,
                data={
                    "first_response_due": due,
                    "owner": requirement.owner_id,
                    "team_lead": getattr(lead, "pk", None),
                },
            )
        )
    emit_many(items)
