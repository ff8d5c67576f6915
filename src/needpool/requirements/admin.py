"""Admin for the configurable lists: classification options and status flows."""

from django.contrib import admin

from needpool.requirements.models import ClassOption, Workflow, WorkflowStatus, WorkflowTransition


@admin.register(ClassOption)
class ClassOptionAdmin(admin.ModelAdmin):
    list_display = ("dimension", "label", "label_en", "key", "sla_hours", "parent", "sort_order", "is_active")
    list_filter = ("dimension", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("label", "key")


class StatusInline(admin.TabularInline):
    model = WorkflowStatus
    extra = 0


class TransitionInline(admin.TabularInline):
    model = WorkflowTransition
    extra = 0
    fk_name = "workflow"


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("name", "key")
    inlines = (StatusInline, TransitionInline)
