"""Review pages: meetings list, create / edit, the meeting page and its actions, minutes and their exports."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.core.concurrency import StaleVersion
from needpool.core.pdf import download_name, pdf_response, word_response
from needpool.core.validation import parse_id
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.reviews import selectors, services
from needpool.reviews.forms import (
    AgendaAddForm,
    DecisionForm,
    ItemMinutesForm,
    MaterialForm,
    MeetingForm,
    MinutesForm,
)
from needpool.reviews.models import AgendaItem, Decision, ReviewMeeting
from needpool.reviews.permissions import acting_user, can_review, deny, meeting_permissions

_SPLIT = re.compile(r"[\s,，、;；]+")
DENIED = _("只有经理和产品经理可以组织评审。")


def _detail(meeting_pk: int, anchor: str = "") -> HttpResponse:
    url = reverse("reviews:detail", args=[meeting_pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _require_review(request: HttpRequest) -> None:
    if not can_review(request.user):
        raise deny(str(DENIED))


# ---------------------------------------------------------------- list, create, edit


def meeting_list_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request.user)
    q = (request.GET.get("q") or "").strip()[:100]
    status = request.GET.get("status") or ""
    page = paginate(request, selectors.meeting_list(user=user, q=q, status=status))
    context = {
        "page_obj": page,
        "meetings": list(page.object_list),
        "q": q,
        "status": status,
        "statuses": ReviewMeeting.Status.choices,
        "allowed": {"create": can_review(user)},
        "now": timezone.now(),
    }
    return render(request, "reviews/list.html", context)


def meeting_create_page(request: HttpRequest) -> HttpResponse:
    _require_review(request)
    user = acting_user(request.user)
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=7)
    initial = {"chair": user.pk, "starts_at": start, "ends_at": start + dt.timedelta(hours=2)}
    form = MeetingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            meeting = services.meeting_create(actor=user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("评审会议“%(title)s”已创建。") % {"title": meeting.title})
            return redirect("reviews:detail", pk=meeting.pk)
    return render(request, "reviews/form.html", {"form": form, "is_create": True})


def meeting_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require_review(request)
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=pk)
    form = MeetingForm(request.POST or None, meeting=meeting)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        attendees = data.pop("attendees")
        version = parse_id(request.POST.get("version"))
        try:
            with transaction.atomic():
                services.meeting_update(actor=user, meeting=meeting, expected_version=version, **data)
                services.attendees_set(actor=user, meeting=meeting, attendees=attendees)
        except StaleVersion:
            form.add_error(None, _("会议在您打开后已被他人修改，未保存。请刷新后再修改。"))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("评审会议已保存。"))
            return redirect("reviews:detail", pk=meeting.pk)
    context = {"form": form, "is_create": False, "meeting": meeting}
    return render(request, "reviews/form.html", context)


# ---------------------------------------------------------------- the meeting page


def _render_detail(
    request: HttpRequest, pk: int, bound: DecisionForm | None = None, bound_item: int | None = None
) -> HttpResponse:
    """The meeting page; ``bound`` is a refused decision form shown again (with its errors) for ``bound_item``."""
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=pk)
    allowed = meeting_permissions(user, meeting)
    materials = list(meeting.materials.all())
    attendees = list(meeting.attendees.all())
    late = selectors.late_materials(meeting, materials)
    iterations = list(selectors.open_iterations(user)) if allowed["decide"] else []
    rows = []
    for item in meeting.visible_items:  # type: ignore[attr-defined]
        form = None
        if allowed["decide"] and bound is not None and item.pk == bound_item:
            form = bound
        elif allowed["decide"]:
            form = DecisionForm(
                prefix=f"d{item.pk}",
                initial={
                    "decision": item.decision if item.decision != Decision.PENDING else None,
                    "note": item.decision_note,
                    "revisit_date": item.revisit_date,
                    "iteration": item.iteration_id,
                    "version": item.version,
                },
            )
        if form is not None:
            choices = [("", "—"), *((i.pk, str(i)) for i in iterations)]
            form.fields["iteration"].choices = choices  # type: ignore[attr-defined]
        rows.append({"item": item, "form": form, "refused": form is not None and form is bound})
    context = {
        "meeting": meeting,
        "attendees": attendees,
        "rows": rows,
        "materials": materials,
        "late": late,
        "is_chair": user.pk == meeting.chair_id,
        "is_attendee": any(a.user_id == user.pk for a in attendees),
        "allowed": allowed,
        "agenda_form": AgendaAddForm(),
        "material_form": MaterialForm(),
        "late_days": selectors.LATE_DAYS,
    }
    return render(request, "reviews/detail.html", context, status=400 if bound is not None else 200)


def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk)


def _ids(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(v for v in _SPLIT.split(value or "") if v)
    return out


@require_POST
def agenda_add(request: HttpRequest) -> HttpResponse:
    """Add requirements to a meeting's agenda: POST ``meeting`` and ``requirements`` (ids, repeated or comma
    separated; from the list, ranked view or board) or ``codes`` (from the meeting page)."""
    _require_review(request)
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=request.POST.get("meeting"))
    ids: list[Any] = _ids(request.POST.getlist("requirements"))
    codes = _ids([request.POST.get("codes", "")[:2000]])
    if codes:
        found, missing = selectors.requirements_by_codes(user=user, codes=codes)
        if missing:
            messages.error(
                request, _("找不到需求：%(codes)s（编号有误或您无权查看）。") % {"codes": "、".join(missing)}
            )
            return _detail(meeting.pk, "agenda")
        ids += found
    try:
        added = services.agenda_add(actor=user, meeting=meeting, requirement_ids=ids)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        skipped = len(set(ids)) - len(added)
        message = _("已加入 %(n)s 条需求到议程。") % {"n": len(added)}
        if skipped:
            message += _("%(n)s 条已在议程中。") % {"n": skipped}
        messages.success(request, message)
    return _detail(meeting.pk, "agenda")


def agenda_choose(request: HttpRequest) -> HttpResponse:
    """Choose the meeting for requirements selected elsewhere: ``?ids=1,2,3``."""
    _require_review(request)
    user = acting_user(request.user)
    # ``?ids=1,2,3`` from a link, or ``?ids=1&ids=2`` from the selection checkboxes of a list
    raw = [value[:4000] for value in request.GET.getlist("ids")[:200]]
    ids = [pk for pk in (parse_id(v) for v in _ids(raw)) if pk is not None][:200]
    requirements = selectors.requirements_for_choice(user=user, ids=ids)
    context = {"requirements": requirements, "meetings": list(selectors.open_meetings(user=user)[:100])}
    return render(request, "reviews/choose.html", context)


@require_POST
def agenda_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_review(request)
    user = acting_user(request.user)
    item = selectors.item_get(user=user, pk=pk)
    try:
        services.agenda_remove(actor=user, item=item)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已移出议程。"))
    return _detail(item.meeting_id, "agenda")


@require_POST
def agenda_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an agenda item one place up or down (``direction`` = up / down)."""
    _require_review(request)
    user = acting_user(request.user)
    item = selectors.item_get(user=user, pk=pk)
    order = list(
        AgendaItem.objects.filter(meeting_id=item.meeting_id).order_by("position", "id").values_list("pk", flat=True)
    )
    at = order.index(item.pk)
    other = at - 1 if request.POST.get("direction") == "up" else at + 1
    if 0 <= other < len(order):
        order[at], order[other] = order[other], order[at]
        services.agenda_reorder(actor=user, meeting=item.meeting, item_ids=order)
    return _detail(item.meeting_id, f"item-{item.pk}")


@require_POST
def agenda_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the whole order: ``items`` = the meeting's item ids in their new order."""
    _require_review(request)
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=pk)
    try:
        services.agenda_reorder(actor=user, meeting=meeting, item_ids=_ids(request.POST.getlist("items")))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return _detail(meeting.pk, "agenda")


@require_POST
def item_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a decision; a refused one (missing reason or date, a workflow refusal) shows the page again with
    the form as typed and the reason, a stale one says who was faster."""
    _require_review(request)
    user = acting_user(request.user)
    item = selectors.item_get(user=user, pk=pk)
    form = DecisionForm(request.POST, prefix=f"d{item.pk}", iterations=selectors.open_iterations(user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decide(
                actor=user,
                item=item,
                decision=data["decision"],
                note=data.get("note") or "",
                revisit_date=data.get("revisit_date"),
                iteration=data.get("iteration"),
                expected_version=data.get("version"),
            )
        except StaleVersion as exc:
            messages.error(request, _("决策未保存：%(reason)s") % {"reason": error_text(exc)})
            return _detail(item.meeting_id, f"item-{item.pk}")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("需求 %(code)s 的决策已记录：%(decision)s。")
                % {"code": item.requirement.code, "decision": Decision(data["decision"]).label},
            )
            return _detail(item.meeting_id, f"item-{item.pk}")
    messages.error(request, _("需求 %(code)s 的决策未保存，请查看下面标出的问题。") % {"code": item.requirement.code})
    return _render_detail(request, item.meeting_id, bound=form, bound_item=item.pk)


@require_POST
def material_add(request: HttpRequest, pk: int) -> HttpResponse:
    _require_review(request)
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=pk)
    form = MaterialForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _detail(meeting.pk, "materials")
    try:
        services.material_add(
            actor=user,
            meeting=meeting,
            title=form.cleaned_data["title"],
            link=form.cleaned_data.get("link") or "",
            upload=form.cleaned_data.get("file"),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("材料已记录为已发送。"))
    return _detail(meeting.pk, "materials")


def material_download(request: HttpRequest, pk: int) -> FileResponse:
    material = selectors.material_get(user=request.user, pk=pk)
    if not material.file:
        raise Http404
    try:
        handle = material.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=material.name or "material")


# ---------------------------------------------------------------- minutes


def minutes_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_review(request)
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=pk)
    items = list(meeting.visible_items)  # type: ignore[attr-defined]
    posted = request.POST if request.method == "POST" else None
    initial = {"solution": meeting.solution, "summary": meeting.summary, "version": meeting.version}
    form = MinutesForm(posted, initial=initial)
    item_forms = [ItemMinutesForm(posted, item=item) for item in items]
    if posted is not None and form.is_valid() and all(f.is_valid() for f in item_forms):
        try:
            services.minutes_update(
                actor=user,
                meeting=meeting,
                expected_version=form.cleaned_data.get("version"),
                solution=form.cleaned_data["solution"],
                summary=form.cleaned_data["summary"],
                items=[{"id": f.item.pk, **f.cleaned_data} for f in item_forms],
            )
        except StaleVersion:
            form.add_error(None, _("纪要在您打开后已被他人修改，未保存。请刷新后再修改。"))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("评审纪要已保存。"))
            return redirect("reviews:detail", pk=meeting.pk)
    context = {"meeting": meeting, "form": form, "item_forms": item_forms}
    return render(request, "reviews/minutes.html", context)


def _minutes_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = acting_user(request.user)
    meeting = selectors.meeting_get(user=user, pk=pk)
    return {
        "meeting": meeting,
        "attendees": list(meeting.attendees.all()),
        "items": list(meeting.visible_items),  # type: ignore[attr-defined]
        "materials": list(meeting.materials.all()),
        "printed_at": timezone.localtime(),
    }


def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting as a calendar file (the same event the invitation mails carry)."""
    meeting = selectors.meeting_get(user=acting_user(request.user), pk=pk)
    response = HttpResponse(services.invitation_ics(meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = download_name(f"review-{meeting.pk}.ics")
    return response


def minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    context = _minutes_context(request, pk)
    name = _("评审纪要-%(title)s.pdf") % {"title": context["meeting"].title}
    return pdf_response(request, "reviews/minutes_print.html", context, name)


def minutes_word(request: HttpRequest, pk: int) -> HttpResponse:
    context = _minutes_context(request, pk)
    name = _("评审纪要-%(title)s.doc") % {"title": context["meeting"].title}
    return word_response(request, "reviews/minutes_print.html", context, name)
