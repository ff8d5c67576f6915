"""A meeting's decision on one agenda item, and the requirement's move through its workflow that follows it.

通过 accepted → the flow's development status reachable from the current one (key ``developing``, else
``in_progress``, else the first allowed target of category active), and planned into an iteration if one is
given; 暂缓 deferred → the deferred status (with a revisit date); 拒绝 rejected → the rejected status (with a
reason); 需修改 → back to the flow's initial status if that move is allowed, else it stays.

The decision and the move are one transaction: a move the workflow refuses (not allowed, a gate) leaves the
decision unsaved and its refusal is the message. The requester, the owner, the watchers and the participants are told
(once per item and decision, each on the channels they chose).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.concurrency import StaleVersion, check_version
from needpool.core.models import AuditEntry
from needpool.core.validation import check_date
from needpool.delivery.models import Iteration
from needpool.delivery.services import iteration_plan_requirements
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import StatusCategory
from needpool.requirements.events import label, subject_of, teams_of, watchers_of
from needpool.requirements.models import NOTE_MAX_LENGTH, Requirement, WorkflowStatus, WorkflowTransition
from needpool.requirements.services import requirement_transition
from needpool.reviews.models import AgendaItem, Decision
from needpool.reviews.permissions import can_review, deny

DEVELOPMENT_KEYS = ("developing", "in_progress")


def _targets(source: WorkflowStatus) -> list[WorkflowStatus]:
    return [
        t.target
        for t in WorkflowTransition.objects.filter(source=source).select_related("target").order_by("target__order")
    ]


def decision_target(source: WorkflowStatus, decision: str) -> WorkflowStatus | None:
    """The status a decision moves a requirement in ``source`` to; None when it stays where it is.

    Raises ValidationError when the decision needs a move the flow does not offer from ``source``.
    """
    targets = _targets(source)
    if decision == Decision.ACCEPTED:
        if source.key in DEVELOPMENT_KEYS:
            return None
        for key in DEVELOPMENT_KEYS:
            for target in targets:
                if target.key == key:
                    return target
        for target in targets:
            if target.category == StatusCategory.ACTIVE:
                return target
        if source.category in (StatusCategory.ACTIVE, StatusCategory.DONE):
            return None
        raise ValidationError(
            {"decision": _("需求当前为“%(status)s”，流程中没有可流转到的开发状态。") % {"status": source}}
        )
    if decision in (Decision.DEFERRED, Decision.REJECTED):
        category = StatusCategory.DEFERRED if decision == Decision.DEFERRED else StatusCategory.REJECTED
        if source.category == category:
            return None
        for target in targets:
            if target.category == category:
                return target
        message = (
            _("需求当前为“%(status)s”，流程不允许从这里流转到暂缓。")
            if decision == Decision.DEFERRED
            else _("需求当前为“%(status)s”，流程不允许从这里流转到已拒绝。")
        )
        raise ValidationError({"decision": message % {"status": source}})
    if decision == Decision.CHANGES:
        if source.is_initial or source.category == StatusCategory.NEW:
            return None
        for target in targets:
            if target.is_initial:
                return target
        for target in targets:
            if target.category == StatusCategory.NEW:
                return target
    return None


def _clean(
    decision: str, note: str, revisit_date: Any, iteration: Any, today: dt.date
) -> tuple[str, dt.date | None, Iteration | None]:
    errors: dict[str, str] = {}
    if decision not in Decision.values or decision == Decision.PENDING:
        raise ValidationError({"decision": _("请选择决策：通过、需修改、暂缓或拒绝。")})
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = _("决策说明不能超过 %(n)s 个字符。") % {"n": NOTE_MAX_LENGTH}
    if decision == Decision.REJECTED and not note:
        errors["note"] = _("拒绝时请填写理由。")
    if decision == Decision.CHANGES and not note:
        errors["note"] = _("需修改时请写明需要修改什么。")
    if decision == Decision.DEFERRED:
        if not isinstance(revisit_date, dt.date):
            errors["revisit_date"] = _("暂缓时请填写重新评审日期。")
        elif revisit_date < today:
            errors["revisit_date"] = _("重新评审日期不能早于今天。")
        else:
            try:
                check_date(revisit_date)
            except ValidationError as exc:
                errors["revisit_date"] = " ".join(exc.messages)
    else:
        revisit_date = None
    if decision == Decision.ACCEPTED and iteration is not None:
        if not isinstance(iteration, Iteration):
            errors["iteration"] = _("无效的迭代。")
        elif iteration.status == Iteration.Status.DONE:
            errors["iteration"] = _("迭代“%(name)s”已完成，不能再加入需求。") % {"name": iteration.name}
    else:
        iteration = None
    if errors:
        raise ValidationError(errors)
    return note, revisit_date, iteration


def _move_note(decision: str, note: str, revisit_date: dt.date | None) -> str:
    label = str(Decision(decision).label)
    text = _("评审决策：%(decision)s") % {"decision": label}
    if note:
        text += _("。%(note)s") % {"note": note}
    if revisit_date:
        text += _("（重新评审日期：%(date)s）") % {"date": revisit_date.isoformat()}
    return text[:NOTE_MAX_LENGTH]


_DECIDED = gettext_noop("评审会议“%(meeting)s”对需求 %(code)s 的决策：%(decision)s")
_DECIDED_REJECTED = gettext_noop("评审会议“%(meeting)s”对需求 %(code)s 的决策：%(decision)s。理由：%(note)s")
_DECIDED_CHANGES = gettext_noop("评审会议“%(meeting)s”对需求 %(code)s 的决策：%(decision)s。需要修改：%(note)s")
_DECIDED_DEFERRED = gettext_noop("评审会议“%(meeting)s”对需求 %(code)s 的决策：%(decision)s。重新评审日期：%(date)s")
_DECIDED_DEFERRED_NOTE = gettext_noop(
    "评审会议“%(meeting)s”对需求 %(code)s 的决策：%(decision)s。重新评审日期：%(date)s。说明：%(note)s"
)
_DECIDED_PLANNED = gettext_noop("评审会议“%(meeting)s”对需求 %(code)s 的决策：%(decision)s。已排入迭代：%(name)s")


def _decision_message(item: AgendaItem) -> str:
    if item.decision == Decision.REJECTED:
        return _DECIDED_REJECTED
    if item.decision == Decision.CHANGES:
        return _DECIDED_CHANGES
    if item.decision == Decision.DEFERRED and item.revisit_date:
        return _DECIDED_DEFERRED_NOTE if item.decision_note else _DECIDED_DEFERRED
    if item.decision == Decision.ACCEPTED and item.iteration_id and item.iteration:
        return _DECIDED_PLANNED
    return _DECIDED


def _tell(actor: User, item: AgendaItem, requirement: Requirement) -> None:
    """The requester, the owner, the watchers and the meeting's participants hear the decision (once per item
    and decision)."""
    meeting = item.meeting
    participants = [seat.user for seat in meeting.attendees.select_related("user")]
    owner = requirement.owner
    emit(
        kind=EventKind.REVIEW_DECISION,
        key=f"review:decision:{item.pk}:{item.decision}",
        message=_decision_message(item),
        params={
            "meeting": meeting.title,
            "code": requirement.code,
            "title": requirement.title,
            "decision": label(Decision(item.decision).label),
            "note": item.decision_note,
            "date": item.revisit_date.isoformat() if item.revisit_date else "",
            "name": item.iteration.name if item.iteration_id and item.iteration else "",
        },
        url=reverse("requirements:detail", args=[requirement.pk]),
        actor=actor,
        recipients=[requirement.created_by, owner, *watchers_of(requirement), meeting.chair, *participants],
        teams=teams_of(owner),
        subject=subject_of(requirement),
        data={
            "decision": item.decision,
            "decision_label": label(Decision(item.decision).label),
            "meeting": {"id": meeting.pk, "title": meeting.title},
            "note": item.decision_note,
            "revisit_date": item.revisit_date.isoformat() if item.revisit_date else None,
            "iteration": item.iteration_id,
        },
    )


@transaction.atomic
def decide(
    *,
    actor: User,
    item: AgendaItem,
    decision: str,
    note: str = "",
    revisit_date: dt.date | None = None,
    iteration: Iteration | None = None,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> AgendaItem:
    """Record the meeting's decision on ``item`` and move its requirement accordingly (see the module).

    ``expected_version`` is the item's version the decider saw: when someone decided in between, nothing
    changes and ``StaleVersion`` says so. Deciding again the same way changes nothing.
    """
    if not can_review(actor):
        raise deny(_("只有经理和产品经理可以记录评审决策。"))
    today = today or timezone.localdate()
    note, revisit_date, iteration = _clean(decision, note, revisit_date, iteration, today)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    try:
        check_version(item.version, expected_version)
    except StaleVersion as exc:
        current = str(Decision(item.decision).label)
        raise StaleVersion(
            item.version,
            _("该议题已被他人处理（当前决策：%(decision)s），您的决策未保存。请刷新后再操作。") % {"decision": current},
        ) from exc
    same = (
        item.decision == decision
        and item.decision_note == note
        and item.revisit_date == revisit_date
        and item.iteration_id == (iteration.pk if iteration else None)
    )
    if same:
        return item
    previous = item.decision
    requirement = Requirement.objects.select_related("status", "created_by", "owner").get(pk=item.requirement_id)
    if requirement.merged_into_id:
        raise ValidationError(
            {"decision": _("需求 %(code)s 已合并到其他需求，不能再决策。") % {"code": requirement.code}}
        )
    item.decision, item.decision_note = decision, note
    item.revisit_date, item.iteration = revisit_date, iteration
    item.revisit_reminded_at = None
    item.decided_by, item.decided_at = actor, timezone.now()
    item.version += 1
    item.save()
    if previous != decision:
        # The decision is saved first so the review_accepted gate sees it; a refused move rolls both back.
        target = decision_target(requirement.status, decision)
        if target is not None:
            requirement = requirement_transition(
                actor=actor, requirement=requirement, to=target.key, note=_move_note(decision, note, revisit_date)
            )
    if iteration is not None:
        iteration_plan_requirements(actor=actor, iteration=iteration, requirements=[requirement])
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.UPDATE,
        changes={
            "review_decision": (str(Decision(previous).label), str(Decision(decision).label)),
            **({"review_note": note} if note else {}),
            "review_meeting": str(item.meeting),
        },
    )
    if previous != decision:
        _tell(actor, item, requirement)
    return item
