"""The database cache table (rate limits and abuse counters) when no Redis is configured."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_backgroundjob")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
