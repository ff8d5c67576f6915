"""Seed the keyword lists of the default type and tag options (rules.DEFAULT_KEYWORDS); idempotent."""

from django.db import migrations


def seed(apps, schema_editor):
    from needpool.suggest.rules import DEFAULT_KEYWORDS

    option_model = apps.get_model("requirements", "ClassOption")
    keywords_model = apps.get_model("suggest", "OptionKeywords")
    for (dimension, key), words in DEFAULT_KEYWORDS.items():
        option = option_model.objects.filter(dimension=dimension, key=key).first()
        if option is not None:
            keywords_model.objects.get_or_create(option=option, defaults={"keywords": " ".join(words)})


class Migration(migrations.Migration):
    dependencies = [
        ("suggest", "0001_initial"),
        ("requirements", "0002_defaults_and_search"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
