"""Kano surveys: creating one and recording answers (by customers through the link, or by staff)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions, scoring
from needpool.analysis.choices import KanoAnswer
from needpool.analysis.models import KanoResponse, KanoSurvey
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.customers.models import Customer
from needpool.customers.permissions import can_view_customer
from needpool.requirements.models import Requirement

MAX_QUESTION_LENGTH = 300  # KanoSurvey.functional_question / dysfunctional_question


@transaction.atomic
def kano_survey_create(
    *, actor: User, requirement: Requirement, functional_question: str, dysfunctional_question: str
) -> KanoSurvey:
    if not permissions.can_edit_kano_survey(actor, requirement):
        raise permissions.deny()
    functional_question = (functional_question or "").strip()
    dysfunctional_question = (dysfunctional_question or "").strip()
    errors = {}
    if not functional_question:
        errors["functional_question"] = _("请填写正向问题，例如“如果提供此功能，您觉得如何？”")
    if not dysfunctional_question:
        errors["dysfunctional_question"] = _("请填写反向问题，例如“如果不提供此功能，您觉得如何？”")
    questions = {"functional_question": functional_question, "dysfunctional_question": dysfunctional_question}
    for name, text in questions.items():
        if len(text) > MAX_QUESTION_LENGTH:
            errors[name] = _("问题有 %(length)s 个字，最多 %(limit)s 个字：请缩短后再保存。") % {
                "length": len(text),
                "limit": MAX_QUESTION_LENGTH,
            }
    if errors:
        raise ValidationError(errors)
    survey, created = KanoSurvey.objects.get_or_create(
        requirement=requirement,
        defaults={
            "functional_question": functional_question,
            "dysfunctional_question": dysfunctional_question,
            "created_by": actor,
        },
    )
    if not created:
        survey.functional_question = functional_question
        survey.dysfunctional_question = dysfunctional_question
        survey.save()
    audit_record(
        actor=actor, obj=requirement, action=AuditEntry.Action.UPDATE, changes={"kano_survey": functional_question}
    )
    return survey


@transaction.atomic
def kano_answer(
    *,
    survey: KanoSurvey,
    functional: str,
    dysfunctional: str,
    actor: User | None = None,
    customer: Customer | None = None,
    respondent: str = "",
) -> KanoResponse:
    """Record one answer pair: by a customer through the public link (no actor) or by staff on their behalf."""
    if actor is not None and not permissions.can_enter_kano_answer(actor, survey):
        raise permissions.deny()
    # A survey left on a merged requirement takes no more answers: the survivor's survey is the one that counts.
    if (not survey.is_open or survey.requirement.merged_into_id) and actor is None:
        raise ValidationError({"survey": _("该问卷已关闭。")})
    errors = {}
    if functional not in KanoAnswer.values:
        errors["functional"] = _("请为正向问题选择一个回答。")
    if dysfunctional not in KanoAnswer.values:
        errors["dysfunctional"] = _("请为反向问题选择一个回答。")
    respondent = (respondent or "").strip()
    if len(respondent) > 80:
        errors["respondent"] = _("姓名不能超过 80 个字符。")
    if errors:
        raise ValidationError(errors)
    if actor is not None and customer is not None and not can_view_customer(actor, customer):
        raise ValidationError({"customer": _("客户不存在或您无权访问。")})
    if customer is not None and KanoResponse.objects.filter(survey=survey, customer=customer).exists():
        raise ValidationError({"customer": _("该客户已经回答过此问卷。")})
    return KanoResponse.objects.create(
        survey=survey,
        customer=customer,
        respondent=respondent,
        functional=functional,
        dysfunctional=dysfunctional,
        category=scoring.kano_classify(functional, dysfunctional),
        entered_by=actor,
    )
