"""Carry the active flow over from the site settings, put the default gates on the statuses as data, and
give 暂缓 its way back to the initial status."""

from django.db import migrations

STANDARDISED = "standardised"
ROOT_CAUSE = "root_cause"


def forwards(apps, schema_editor):
    Workflow = apps.get_model("requirements", "Workflow")
    WorkflowStatus = apps.get_model("requirements", "WorkflowStatus")
    WorkflowTransition = apps.get_model("requirements", "WorkflowTransition")
    SiteConfig = apps.get_model("core", "SiteConfig")

    config = SiteConfig.objects.filter(pk=1).first()
    active_id = getattr(config, "active_workflow_id", None) if config else None
    active = Workflow.objects.filter(pk=active_id).first() if active_id else None
    active = active or Workflow.objects.filter(key="standard").first() or Workflow.objects.order_by("pk").first()
    if active is not None:
        Workflow.objects.filter(pk=active.pk).update(is_active=True)

    for status in WorkflowStatus.objects.filter(is_initial=True):
        if STANDARDISED not in (status.exit_gates or []):
            status.exit_gates = [*(status.exit_gates or []), STANDARDISED]
            status.save(update_fields=["exit_gates"])
    for status in WorkflowStatus.objects.filter(key="in_review"):
        if ROOT_CAUSE not in (status.entry_gates or []):
            status.entry_gates = [*(status.entry_gates or []), ROOT_CAUSE]
            status.save(update_fields=["entry_gates"])

    for workflow in Workflow.objects.all():
        deferred = WorkflowStatus.objects.filter(workflow=workflow, category="deferred").first()
        initial = WorkflowStatus.objects.filter(workflow=workflow, is_initial=True).first()
        if deferred is not None and initial is not None:
            WorkflowTransition.objects.get_or_create(workflow=workflow, source=deferred, target=initial)


def backwards(apps, schema_editor):
    SiteConfig = apps.get_model("core", "SiteConfig")
    Workflow = apps.get_model("requirements", "Workflow")
    active = Workflow.objects.filter(is_active=True).first()
    if active is not None and hasattr(SiteConfig, "active_workflow"):
        SiteConfig.objects.filter(pk=1).update(active_workflow=active)


class Migration(migrations.Migration):
    dependencies = [
        ("requirements", "0006_workflow_gates_active"),
        ("core", "0004_audit_merge_import_actions"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
