"""The requirement list's bulk edit: the selected rows, one change, a result per row."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.validation import parse_id
from needpool.core.views import error_text
from needpool.requirements.services.bulk import ACTIONS, requirements_bulk_edit


def versions_from(values: list[str]) -> dict[int, int]:
    """``["12:3", …]`` (id:version as the page showed it) → {12: 3}; malformed pairs are ignored."""
    versions: dict[int, int] = {}
    for pair in values:
        pk, _sep, version = pair.partition(":")
        pk_id, number = parse_id(pk.strip()), parse_id(version.strip())
        if pk_id is not None and number is not None:
            versions[pk_id] = number
    return versions


@require_POST
def requirements_bulk_page(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request.user)
    kept = QueryDict(request.POST.get("back", "")[:2000]).urlencode()
    back = reverse("requirements:list") + (f"?{kept}" if kept else "")
    action = request.POST.get("action", "")
    try:
        rows = requirements_bulk_edit(
            actor=actor,
            ids=request.POST.getlist("ids"),
            action=action,
            value=request.POST.get(f"value_{action}", request.POST.get("value", "")),
            versions=versions_from(request.POST.getlist("v")),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    context = {
        "rows": rows,
        "action_label": ACTIONS[action],
        "done": sum(1 for r in rows if r.ok),
        "refused": sum(1 for r in rows if not r.ok),
        "back": back,
    }
    return render(request, "requirements/bulk_result.html", context)
