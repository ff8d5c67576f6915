"""Admin for the configurable lists: classification options and status flows."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import acting_user
from needpool.requirements import lifecycle
from needpool.requirements.models import ClassOption, Workflow, WorkflowStatus, WorkflowTransition
from needpool.requirements.services import workflow_activate


@admin.register(ClassOption)
class ClassOptionAdmin(admin.ModelAdmin):
    """Read-only here: the lists are edited on the app's 分类规则 pages (/settings/classification/), where every
    change is audited and makes a new rule version, and an option in use is deactivated, never deleted."""

    list_display = ("dimension", "label", "label_en", "key", "sla_hours", "parent", "sort_order", "is_active")
    list_filter = ("dimension", "is_active")
    search_fields = ("label", "key")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ClassOption | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ClassOption | None = None) -> bool:
        return False


def _gate_choices() -> list[tuple[str, str]]:
    return [(key, gate.label()) for key, gate in lifecycle.registered_gates().items()]


class StatusForm(forms.ModelForm):
    """Entry and exit gates are picked from the gates the installed apps register."""

    entry_gates = forms.MultipleChoiceField(
        label=_("进入条件"), required=False, choices=_gate_choices, widget=forms.CheckboxSelectMultiple
    )
    exit_gates = forms.MultipleChoiceField(
        label=_("离开条件"), required=False, choices=_gate_choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WorkflowStatus
        fields = ("key", "label", "label_en", "category", "order", "is_initial", "entry_gates", "exit_gates")


class StatusInline(admin.TabularInline):
    model = WorkflowStatus
    form = StatusForm
    extra = 0


class TransitionInline(admin.TabularInline):
    model = WorkflowTransition
    extra = 0
    fk_name = "workflow"


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "is_active")
    readonly_fields = ("is_active",)
    inlines = (StatusInline, TransitionInline)
    actions = ("activate",)

    @admin.action(description=_("设为当前流程"))
    def activate(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个流程。"), level=messages.ERROR)
            return
        try:
            workflow = workflow_activate(actor=acting_user(request.user), workflow=queryset.get())
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), level=messages.ERROR)
            return
        self.message_user(request, _("“%(name)s”已设为当前流程。") % {"name": workflow})
