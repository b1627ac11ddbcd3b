"""No new migration may lock a big table for writes (docs/operations.md, "Migrations on
big tables").

A plain ``CREATE INDEX`` holds off every INSERT/UPDATE of the table while it builds (6.2 s
at 300,000 cases); changing a column's type rewrites the table under an exclusive lock;
a new column with a default, an index, a constraint or a foreign key is written or
validated row by row. On the tables that grow with a city's history these are outages,
so a new migration must use ``jinzhitong.migration_ops.AddIndexConcurrently`` (in a
migration with ``atomic = False``), or add a nullable column first and fill it in batches.

Migrations already applied in production are the baseline: they are listed by name and
never converted. A rare justified exception is added to ``ALLOWED`` with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently as DjangoConcurrently
from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

from jinzhitong.migration_ops import AddIndexConcurrently

PROJECT_APPS = ("accounts", "grids", "reports", "residents", "evaluation")

# Tables that grow with the city's history (cases, their events and photos, notices,
# the statistics' rollups, the residents' register and its logs).
BIG_MODELS = {
    ("reports", "report"),
    ("reports", "reportevent"),
    ("reports", "reportphoto"),
    ("reports", "notification"),
    ("reports", "timerequest"),
    ("evaluation", "dailystreetrollup"),
    ("evaluation", "monthlycategoryrollup"),
    ("evaluation", "monthlygridrollup"),
    ("evaluation", "workerdailyrollup"),
    ("residents", "household"),
    ("residents", "person"),
    ("residents", "persontag"),
    ("residents", "change"),
    ("residents", "visit"),
    ("residents", "accesslog"),
}

# Shipped before this rule: applied on every installation, never rewritten.
BASELINE = {
    ("accounts", "0001_initial"),
    ("evaluation", "0001_daily_rollups_and_score_weights"),
    ("evaluation", "0002_screen_rollups_by_street_day_category_grid"),
    ("evaluation", "0003_category_month_covering_index"),
    ("grids", "0001_initial"),
    ("grids", "0002_region_parent_level_trigger"),
    ("reports", "0001_work_calendar"),
    ("reports", "0002_default_work_schedule"),
    ("reports", "0003_cases_categories_rules"),
    ("reports", "0004_default_stage_limits"),
    ("reports", "0005_routingrule_updated_at"),
    ("reports", "0006_report_field_labels"),
    ("reports", "0007_category_nearby_radius"),
    ("reports", "0008_notification_recipient"),
    ("reports", "0009_report_list_indexes"),
    ("reports", "0010_report_reporter_state_index"),
    ("reports", "0011_fk_indexes_covered_by_composites"),
    ("residents", "0001_households_people_visits"),
    ("residents", "0002_default_tags_levels_rules"),
}

# (app, migration name) → why it may lock anyway. Empty: keep it that way.
ALLOWED: dict[tuple[str, str], str] = {}

_CONCURRENT = (DjangoConcurrently, RemoveIndexConcurrently)


def _operations(ops: list[Operation]) -> Iterator[Operation]:
    for op in ops:
        if isinstance(op, migrations.SeparateDatabaseAndState):
            yield from _operations(op.database_operations)
        else:
            yield op


def _adds_a_field_safely(field: models.Field[Any, Any]) -> bool:
    """A nullable column with no default, index, uniqueness or foreign key: a catalogue
    change only, whatever the table's size."""
    return (
        field.null
        and not field.has_default()
        and getattr(field, "db_default", models.NOT_PROVIDED) is models.NOT_PROVIDED
        and not field.db_index
        and not field.unique
        and not field.is_relation
    )


def locking_operations(app: str, migration: migrations.Migration) -> list[str]:
    """What in this migration would lock a big table for writes (empty when nothing)."""
    problems: list[str] = []
    created: set[str] = set()
    has_concurrent = False
    for op in _operations(migration.operations):
        if isinstance(op, migrations.CreateModel):
            created.add(op.name_lower)  # an empty new table: nothing to wait for
            continue
        model = getattr(op, "model_name_lower", None) or getattr(op, "name_lower", None)
        if model is None or (app, model) not in BIG_MODELS or model in created:
            continue
        name = f"{type(op).__name__} on {app}.{model}"
        if isinstance(op, _CONCURRENT):
            has_concurrent = True
        elif isinstance(op, migrations.AddIndex | migrations.RemoveIndex):
            problems.append(f"{name}: use jinzhitong.migration_ops.AddIndexConcurrently")
        elif isinstance(op, migrations.AddConstraint | migrations.AlterUniqueTogether):
            problems.append(f"{name}: build a unique index concurrently, then attach it")
        elif isinstance(op, migrations.AlterField):
            problems.append(f"{name}: changing a column rewrites or rescans the table")
        elif isinstance(op, migrations.AddField) and not _adds_a_field_safely(op.field):
            problems.append(f"{name}: add it nullable without a default, then fill in batches")
        elif isinstance(op, migrations.RenameModel | migrations.DeleteModel):
            problems.append(f"{name}: every running process still uses the old table")
    if has_concurrent and migration.atomic:
        problems.append("a concurrent index needs `atomic = False` on the migration")
    return problems


def _project_migrations() -> Iterator[tuple[tuple[str, str], migrations.Migration]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key, migration in sorted(loader.disk_migrations.items()):
        if key[0] in PROJECT_APPS:
            yield key, migration


def test_it_finds_no_new_migration_that_locks_a_big_table() -> None:
    found = {
        key: problems
        for key, migration in _project_migrations()
        if key not in BASELINE and key not in ALLOWED
        if (problems := locking_operations(key[0], migration))
    }

    assert found == {}


def test_it_keeps_the_baseline_to_migrations_that_exist() -> None:
    # A renamed or squashed baseline migration must be listed under its new name.
    assert BASELINE <= {key for key, _ in _project_migrations()}


def _migration(*ops: Operation, atomic: bool = True) -> migrations.Migration:
    m = migrations.Migration("9999_probe", "reports")
    m.operations = list(ops)
    m.atomic = atomic
    return m


INDEX = models.Index(fields=["created_at"], name="probe_idx")


@pytest.mark.parametrize(
    "op",
    [
        migrations.AddIndex(model_name="report", index=INDEX),
        migrations.AlterField(model_name="reportevent", name="note", field=models.TextField()),
        migrations.AddField(
            model_name="reportphoto", name="probe", field=models.IntegerField(default=0)
        ),
        migrations.AddField(
            model_name="report", name="probe", field=models.CharField(max_length=3, null=True,
                                                                     db_index=True)
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.UniqueConstraint(fields=["number"], name="probe_uniq"),
        ),
    ],
)
def test_it_flags_operations_that_lock_a_big_table(op: Operation) -> None:
    assert locking_operations("reports", _migration(op))


def test_it_accepts_a_concurrent_index_in_a_non_atomic_migration() -> None:
    op = AddIndexConcurrently(model_name="report", index=INDEX)

    assert locking_operations("reports", _migration(op, atomic=False)) == []
    assert locking_operations("reports", _migration(op, atomic=True)) != []


def test_it_accepts_a_nullable_column_and_any_change_to_a_small_table() -> None:
    nullable = migrations.AddField(
        model_name="report", name="probe", field=models.TextField(null=True)
    )
    small = migrations.AddIndex(model_name="category", index=INDEX)

    assert locking_operations("reports", _migration(nullable, small)) == []
