"""Admin pages of feedback by mail (/intake/mail/): the mailboxes with their status, add / edit / delete,
收取 now and a connection test, and the log of mails that came in with links to their feedback."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.intake.mailin.forms import MailSourceForm
from needpool.intake.mailin.imap import MailboxError
from needpool.intake.mailin.models import InboundStatus
from needpool.intake.mailin.selectors import (
    inbound_attachment_get,
    inbound_mail_get,
    inbound_mails,
    inbound_thread,
    mail_source_get,
    mail_sources,
)
from needpool.intake.mailin.services import (
    SOURCE_FIELDS,
    mail_poll_request,
    mail_source_check,
    mail_source_create,
    mail_source_delete,
    mail_source_update,
)
from needpool.intake.staff import history_rows


@login_required
def mail_index(request: HttpRequest) -> HttpResponse:
    sources = list(mail_sources(user=request.user)[:100])
    status = request.GET.get("status", "")
    page = paginate(request, inbound_mails(user=request.user, status=status))
    context = {
        "sources": sources,
        "page_obj": page,
        "mails": page.object_list,
        "statuses": InboundStatus.choices,
        "status": status if status in InboundStatus.values else "",
    }
    return render(request, "intake/mailin/index.html", context)


@login_required
def mail_source_new(request: HttpRequest) -> HttpResponse:
    mail_sources(user=request.user)  # admins only (404 otherwise)
    form = MailSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = mail_source_create(
                actor=acting_user(request.user),
                password=form.cleaned_data["password"],
                **{f: form.cleaned_data[f] for f in SOURCE_FIELDS},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)  # type: ignore[arg-type]  # a ModelForm is a BaseForm too
        else:
            messages.success(request, _("收件邮箱“%(name)s”已添加。") % {"name": source.name})
            return redirect("intake:mail_source", pk=source.pk)
    return render(request, "intake/mailin/form.html", {"form": form, "is_create": True})


@login_required
def mail_source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = mail_source_get(user=request.user, pk=pk)
    form = MailSourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            source = mail_source_update(
                actor=acting_user(request.user),
                source=source,
                password=form.cleaned_data["password"],
                **{f: form.cleaned_data[f] for f in SOURCE_FIELDS},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("收件邮箱设置已保存。"))
            return redirect("intake:mail_source", pk=source.pk)
    if request.method == "POST":
        source.refresh_from_db()  # the bound form changed the instance in memory; show the saved values
    page = paginate(request, inbound_mails(user=request.user, source=source), per_page=20)
    context = {
        "source": source,
        "form": form,
        "page_obj": page,
        "mails": page.object_list,
        "history": history_rows(source),  # type: ignore[arg-type]  # any model with audit rows
    }
    return render(request, "intake/mailin/source.html", context)


@login_required
@require_POST
def mail_source_remove(request: HttpRequest, pk: int) -> HttpResponse:
    source = mail_source_get(user=request.user, pk=pk)
    mail_source_delete(actor=acting_user(request.user), source=source)
    messages.success(request, _("收件邮箱“%(name)s”已删除，已生成的反馈保留在需求池中。") % {"name": source.name})
    return redirect("intake:mail")


@login_required
@require_POST
def mail_source_poll(request: HttpRequest, pk: int) -> HttpResponse:
    source = mail_source_get(user=request.user, pk=pk)
    try:
        mail_poll_request(actor=acting_user(request.user), source=source)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已开始收取，稍后刷新本页查看结果。"))
    return redirect("intake:mail_source", pk=source.pk)


@login_required
@require_POST
def mail_source_test(request: HttpRequest, pk: int) -> HttpResponse:
    source = mail_source_get(user=request.user, pk=pk)
    try:
        count = mail_source_check(actor=acting_user(request.user), source=source)
    except MailboxError as exc:
        messages.error(request, _("连接失败：%(error)s") % {"error": exc})
    else:
        text = _("连接成功：文件夹“%(folder)s”中有 %(count)s 封邮件。")
        messages.success(request, text % {"folder": source.folder, "count": count})
    return redirect("intake:mail_source", pk=source.pk)


@login_required
def inbound_mail(request: HttpRequest, pk: int) -> HttpResponse:
    mail = inbound_mail_get(user=request.user, pk=pk)
    context = {"mail": mail, "thread": list(inbound_thread(mail))}
    return render(request, "intake/mailin/mail.html", context)


@login_required
def inbound_mail_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    attachment = inbound_attachment_get(user=request.user, mail_pk=pk, pk=file_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)
