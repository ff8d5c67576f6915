"""The preview's update policy: per column with differences, how an existing record is updated (fill its
empty fields, overwrite them, or skip the column); choosing previews the same sheet again with it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.core.models import BackgroundJob
from needpool.intake.transfer.imports.handlers.outcomes import FILL, OVERWRITE, SKIP, UPDATE_POLICIES
from needpool.intake.transfer.selectors import import_job_get
from needpool.intake.transfer.services import IMPORT_PREVIEW
from needpool.intake.transfer.views import revise_to_job

POLICY_LABELS = {
    FILL: gettext_lazy("只填空值"),
    OVERWRITE: gettext_lazy("覆盖"),
    SKIP: gettext_lazy("跳过"),
}
FIELD_PREFIX = "policy-"


def policy_columns(job: BackgroundJob) -> list[dict[str, Any]]:
    """The columns whose sheet values differ from existing records in any row of the sheet, in the
    order of the sheet: key, header, the policy the preview ran with, how many differences and how many
    were applied. Empty unless the preview can still be revised."""
    result = job.params.get("result") or {}
    if (
        job.kind != IMPORT_PREVIEW
        or job.status != BackgroundJob.Status.DONE
        or job.params.get("run_job")
        or job.params.get("revised_by")
    ):
        return []
    found = {
        key: {**column, "policy": column.get("policy") or FILL}
        for key, column in (result.get("diff_columns") or {}).items()
    }
    order = {c["column"]: n for n, c in enumerate(result.get("columns") or [])}
    columns = sorted(found.values(), key=lambda c: order.get(c["key"], len(order)))
    for column in columns:
        column["field"] = FIELD_PREFIX + column["key"]
        column["choices"] = [
            {"value": value, "label": POLICY_LABELS[value], "selected": value == column["policy"]}
            for value in UPDATE_POLICIES
        ]
    return columns


@require_POST
def import_job_policy(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview the sheet again with the update policy chosen per column (only its creator can: others'
    previews are not found, and the service refuses anything but one's own preview)."""
    preview = import_job_get(user=request.user, pk=pk)
    chosen = dict((preview.params.get("options") or {}).get("update_policy") or {})
    for column in policy_columns(preview):
        value = request.POST.get(column["field"])
        if value in UPDATE_POLICIES:
            chosen[column["key"]] = value
    return revise_to_job(request, preview, {"options": {"update_policy": chosen}})
