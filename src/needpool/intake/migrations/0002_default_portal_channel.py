"""Seed one open portal channel, so /portal/ works on a new install (admin can rename or switch it off)."""

from django.db import migrations


def seed(apps, schema_editor):
    channel = apps.get_model("intake", "IntakeChannel")
    if not channel.objects.exists():
        channel.objects.create(
            name="官网需求反馈",
            slug="web",
            kind="portal",
            feedback_channel="website_form",
            access_mode="open",
            portal_shows="status_messages",
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
