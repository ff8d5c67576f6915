"""Root cause: the 5-Whys chain, the fishbone diagram, and the gate's refusal for entering review."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions
from needpool.analysis.choices import FishboneCategory
from needpool.analysis.models import FishboneCause, WhyStep
from needpool.analysis.services.common import locked_analysis
from needpool.core.audit import audit_record, diff
from needpool.core.models import AuditEntry
from needpool.requirements import lifecycle
from needpool.requirements import workflow as flow_rules
from needpool.requirements.models import Requirement

MAX_WHYS = 10
MAX_WHY_LENGTH = 300  # WhyStep.question / answer
MAX_ROOT_CAUSE_LENGTH = 2000


@transaction.atomic
def whys_set(
    *, actor: User, requirement: Requirement, steps: Sequence[tuple[str, str]], root_cause: str
) -> list[WhyStep]:
    """Replace the 5-Whys chain: ordered (why, because) pairs ending in a root cause."""
    if not permissions.can_edit_root_cause(actor, requirement):
        raise permissions.deny()
    cleaned = [((q or "").strip(), (a or "").strip()) for q, a in steps]
    cleaned = [(q, a) for q, a in cleaned if q or a]
    root_cause = (root_cause or "").strip()
    errors: dict[str, str] = {}
    if len(cleaned) > MAX_WHYS:
        errors["steps"] = _("最多 %(n)s 个“为什么”。") % {"n": MAX_WHYS}
    for index, (question, answer) in enumerate(cleaned, start=1):
        if not question or not answer:
            errors["steps"] = _("第 %(n)s 步的“为什么”和“因为”都要填写。") % {"n": index}
            break
        too_long = [
            (part, len(text))
            for part, text in ((_("为什么"), question), (_("因为"), answer))
            if len(text) > MAX_WHY_LENGTH
        ]
        if too_long:
            part, length = too_long[0]
            errors["steps"] = _(
                "第 %(n)s 步的“%(part)s”有 %(length)s 个字，最多 %(limit)s 个字：请缩短后再保存（未保存任何内容）。"
            ) % {"n": index, "part": part, "length": length, "limit": MAX_WHY_LENGTH}
            break
    if cleaned and not root_cause:
        errors["root_cause"] = _("5 Whys 必须以根本原因结束。")
    if len(root_cause) > MAX_ROOT_CAUSE_LENGTH:
        errors["root_cause"] = _("根本原因有 %(length)s 个字，最多 %(limit)s 个字：请缩短后再保存。") % {
            "length": len(root_cause),
            "limit": MAX_ROOT_CAUSE_LENGTH,
        }
    if errors:
        raise ValidationError(errors)
    analysis = locked_analysis(requirement)
    before = {"whys": [f"{w.question} → {w.answer}" for w in requirement.whys.all()], "root_cause": analysis.root_cause}
    WhyStep.objects.filter(requirement=requirement).delete()
    made = WhyStep.objects.bulk_create(
        WhyStep(requirement=requirement, position=i, question=q, answer=a) for i, (q, a) in enumerate(cleaned, start=1)
    )
    analysis.root_cause = root_cause
    analysis.save(update_fields=["root_cause", "updated_at"])
    after = {"whys": [f"{q} → {a}" for q, a in cleaned], "root_cause": root_cause}
    changes = diff(before, after)
    if changes:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={f"analysis.{k}": v for k, v in changes.items()},
        )
    return made


@transaction.atomic
def fishbone_set(*, actor: User, requirement: Requirement, causes: Iterable[tuple[str, str]]) -> list[FishboneCause]:
    """Replace the fishbone causes: (category, text) with categories 人 机 料 法 环 (测)."""
    if not permissions.can_edit_root_cause(actor, requirement):
        raise permissions.deny()
    cleaned = [(c, (t or "").strip()) for c, t in causes if (t or "").strip()]
    for category, text in cleaned:
        if category not in FishboneCategory.values:
            raise ValidationError({"causes": _("未知的鱼骨图类别：%(c)s。") % {"c": category}})
        if len(text) > 200:
            raise ValidationError({"causes": _("每条原因不能超过 200 个字符。")})
    if len(cleaned) > 60:
        raise ValidationError({"causes": _("原因太多（最多 60 条）。")})
    before = sorted(f"{c.category}:{c.text}" for c in requirement.fishbone.all())
    FishboneCause.objects.filter(requirement=requirement).delete()
    made = FishboneCause.objects.bulk_create(
        FishboneCause(requirement=requirement, category=c, text=t, position=i) for i, (c, t) in enumerate(cleaned)
    )
    after = sorted(f"{c}:{t}" for c, t in cleaned)
    if before != after:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={"analysis.fishbone": (", ".join(before), ", ".join(after))},
        )
    return made


def whys_required_missing(requirement: Requirement, target_key: str = "in_review") -> str | None:
    """The refusal for entering review while a P0/P1 requirement lacks its 5 Whys (the ``root_cause`` gate)."""
    from needpool.analysis import lifecycle as analysis_lifecycle

    move = flow_rules.Move(
        source_key="",
        source_label="",
        source_category="",
        target_key=target_key,
        target_label="",
        target_category="",
    )
    gate = analysis_lifecycle.ROOT_CAUSE_GATE
    facts = {name: lifecycle.fact(name, requirement) for name in gate.facts}
    return gate.check(move, facts)
