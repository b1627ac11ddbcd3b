# The thumbnail sweep's partial index, built without locking the photo table for writes
# (CREATE INDEX CONCURRENTLY on PostgreSQL; docs/operations.md "Migrations on big tables").

from django.db import migrations, models

from jinzhitong.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    # PostgreSQL cannot build an index concurrently inside a transaction.
    atomic = False

    dependencies = [
        ('reports', '0011_fk_indexes_covered_by_composites'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='reportphoto',
            index=models.Index(
                condition=models.Q(('thumbnail', '')),
                fields=['created_at'],
                name='reports_photo_no_thumb',
            ),
        ),
    ]
