"""Adding a customer's feedback to a similar requirement (a vote): ``feedback_attach`` for an existing
feedback item, ``feedback_vote_create`` for the words typed on the create form.

A user who may edit the requirement links through ``requirements.services.feedback_link``. Anyone who
may write the feedback item may also add it to a requirement the duplicate detection finds to be the same
need (``index.STRONG_MATCH``), even one outside their scope that they cannot open: that is how a sales rep
adds their customer's voice to an existing need instead of creating a duplicate. The requirement stays
as hidden as it was: such a link is marked ``Feedback.scope_vote``, which ``requirements.permissions``
does not count as "feedback from a customer they can see".
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.customers.models import Customer
from needpool.customers.permissions import can_write_customer
from needpool.requirements.dedup.index import strong_match
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.permissions import (
    can_edit_requirement,
    can_write_feedback,
    visible_feedback,
    visible_requirements,
)
from needpool.requirements.services import feedback_create, feedback_link
from needpool.requirements.services.common import _refuse_merged, requirements_refresh_customer_value


def can_attach_feedback(user: User, feedback: Feedback) -> bool:
    """Whether ``user`` may add this feedback item to a requirement as a vote."""
    if not can_write_feedback(user) or not visible_feedback(user).filter(pk=feedback.pk).exists():
        return False
    return feedback.customer is None or can_write_customer(user, feedback.customer)


def _claim(feedback: Feedback, requirement: Requirement, *, scope_vote: bool = False) -> int:
    """Link the item only if it is still unlinked (one conditional UPDATE: of two people at once, one wins)."""
    unlinked = Feedback.objects.filter(pk=feedback.pk, requirement__isnull=True)
    return unlinked.update(requirement=requirement, scope_vote=scope_vote, updated_at=timezone.now())


def _out_of_scope(user: User, requirement: Requirement) -> bool:
    return not visible_requirements(user).filter(pk=requirement.pk).exists()


@transaction.atomic
def feedback_attach(*, actor: User, feedback: Feedback, requirement: Requirement) -> Feedback:
    """Link an unlinked feedback item to ``requirement``: through ``feedback_link`` when the actor may edit
    it, else as a vote when it is a strong match of the feedback's words. Two people at once: one wins,
    the other is told the item is already linked."""
    if not can_attach_feedback(actor, feedback):
        raise PermissionDenied(_("您没有处理该反馈的权限。"))
    if feedback.requirement_id is not None:
        raise ValidationError(_("该反馈已关联到其他需求。"))
    if can_edit_requirement(actor, requirement):
        claimed = _claim(feedback, requirement)
        if not claimed:
            raise ValidationError(_("该反馈已关联到其他需求。"))
        feedback.requirement = None  # feedback_link writes the link again, with its audit entry
        return feedback_link(actor=actor, feedback=feedback, requirement=requirement)
    _refuse_merged(requirement)
    hidden = _out_of_scope(actor, requirement)
    if not strong_match(feedback.raw_text, requirement.pk):
        if not hidden:
            raise PermissionDenied(_("您没有编辑该需求的权限。"))
        raise PermissionDenied(_("需求不存在或您无权访问。"))  # the same words as for an id that does not exist
    claimed = _claim(feedback, requirement, scope_vote=hidden)  # a vote does not open the requirement to them
    if not claimed:
        raise ValidationError(_("该反馈已关联到其他需求。"))
    feedback.requirement, feedback.scope_vote = requirement, hidden
    requirements_refresh_customer_value(requirement_ids=[requirement.pk])
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.LINK,
        changes={"feedback": feedback.raw_text[:80]},
    )
    return feedback


@transaction.atomic
def feedback_vote_create(
    *, actor: User, requirement: Requirement, raw_text: str, channel: str, customer: Customer | None
) -> Feedback:
    """Record a customer's words as feedback on a strong match the actor may not edit or see (a vote from the
    create form, instead of a duplicate requirement), through ``requirements.services.feedback_create``."""
    if not can_write_feedback(actor):
        raise PermissionDenied(_("您没有录入反馈的权限。"))
    if customer is None:
        raise ValidationError({"customer": _("请先选择客户：这一票记在客户名下。")})
    if not strong_match(raw_text, requirement.pk):
        raise PermissionDenied(_("需求不存在或您无权访问。"))
    _refuse_merged(requirement)
    hidden = _out_of_scope(actor, requirement)
    feedback = feedback_create(
        actor=actor, raw_text=raw_text, channel=channel, customer=customer, requirement=requirement
    )
    if hidden:  # a vote does not open the requirement to them (requirements.permissions)
        Feedback.objects.filter(pk=feedback.pk).update(scope_vote=True)
        feedback.scope_vote = True
    return feedback
