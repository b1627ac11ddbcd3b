"""Data: the default office hours (08:30–12:00, 13:30–17:30), editable in the admin.

Holidays and make-up days are not seeded here: ``manage.py seed_calendar`` does that,
idempotently and without touching days an administrator edited, and can be rerun when a
newer chinese-calendar publishes the next year.
"""

import datetime

from django.db import migrations


def create_schedule(apps, schema_editor):
    WorkSchedule = apps.get_model("reports", "WorkSchedule")
    WorkSchedule.objects.get_or_create(
        pk=1,
        defaults={
            "morning_start": datetime.time(8, 30),
            "morning_end": datetime.time(12, 0),
            "afternoon_start": datetime.time(13, 30),
            "afternoon_end": datetime.time(17, 30),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_work_calendar")]

    operations = [migrations.RunPython(create_schedule, migrations.RunPython.noop)]
