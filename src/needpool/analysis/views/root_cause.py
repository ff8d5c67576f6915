"""Root-cause analysis on the desk: the 5-Whys editor and the fishbone diagram's causes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.analysis import permissions
from needpool.analysis.forms import FishboneForm, whys_from_post
from needpool.analysis.permissions import acting_user
from needpool.analysis.selectors import analysis_of
from needpool.analysis.services import MAX_WHYS, fishbone_set, whys_set
from needpool.analysis.views.desk import desk_action, desk_context, desk_url, requirement_or_404, whys_state
from needpool.core.views import error_text, is_htmx


@require_POST
def desk_whys(request: HttpRequest, pk: int) -> HttpResponse:
    """The 5-Whys editor: add / remove rows (no save) or save the chain; htmx gets the editor back."""
    requirement = requirement_or_404(request, pk)
    if not permissions.can_edit_root_cause(request.user, requirement):
        raise permissions.deny()
    rows, root_cause = whys_from_post(request.POST)
    state: dict[str, Any] = {"rows": rows, "root_cause": root_cause}
    action = request.POST.get("action", "save")
    remove = request.POST.get("remove", "")
    if remove.isascii() and remove.isdigit():
        index = int(remove)
        if 0 <= index < len(rows):
            rows.pop(index)
    elif action == "add":
        if len(rows) < MAX_WHYS:
            rows.append({"question": "", "answer": ""})
            state["focus_last"] = True
    else:
        try:
            whys_set(
                actor=acting_user(request.user),
                requirement=requirement,
                steps=[(row["question"], row["answer"]) for row in rows],
                root_cause=root_cause,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"steps": exc.messages}
            state["errors"] = errors
            if not is_htmx(request):
                messages.error(request, _("5 Whys 未保存：%(errors)s") % {"errors": error_text(exc)})
        else:
            if not is_htmx(request):
                messages.success(request, _("5 Whys 已保存。"))
                return redirect(desk_url(requirement.pk, "whys"))
            state = {"saved": True}
    if is_htmx(request):
        analysis = analysis_of(requirement)
        context = {
            "requirement": requirement,
            "whys": whys_state(requirement, analysis, state),
            "allowed": permissions.desk_permissions(request.user, requirement),
        }
        return render(request, "analysis/_whys.html", context)
    return render(request, "analysis/requirement.html", desk_context(request, requirement, whys=state))


@require_POST
def desk_fishbone(request: HttpRequest, pk: int) -> HttpResponse:
    return desk_action(
        request,
        pk,
        allowed=permissions.can_edit_root_cause,
        form_name="fishbone_form",
        make_form=lambda r: FishboneForm(request.POST),
        save=lambda r, f: fishbone_set(actor=acting_user(request.user), requirement=r, causes=f.causes()),
        anchor="fishbone",
        success=_("鱼骨图已保存。"),
        section=_("鱼骨图"),
    )
