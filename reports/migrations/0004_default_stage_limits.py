"""Data: default triage stage limits — accept 15, dispatch 15, verify 30 working minutes."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("accept", Decimal("0.25")),
    ("dispatch", Decimal("0.25")),
    ("verify", Decimal("0.5")),
]


def create(apps, schema_editor):
    StageLimit = apps.get_model("reports", "StageLimit")
    for stage, hours in DEFAULTS:
        StageLimit.objects.get_or_create(
            stage=stage, defaults={"amount": hours, "unit": "working_hours"}
        )


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_cases_categories_rules")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
