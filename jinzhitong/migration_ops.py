"""Migration operations that do not lock big tables for writes (docs/operations.md,
"Migrations on big tables").

``AddIndexConcurrently`` here is PostgreSQL's ``CREATE INDEX CONCURRENTLY`` (writers go on
while the index builds; a plain ``CREATE INDEX`` holds off every INSERT and UPDATE of the
table until it is done — 6.2 s at 300,000 cases) and a plain ``CREATE INDEX`` on the other
engines (SQLite in development), where Django's own operation refuses to run. A migration
using it must say ``atomic = False``: PostgreSQL cannot build an index concurrently inside
a transaction. ``tests/test_migration_locks.py`` fails on any new migration that locks a
big table another way.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres import operations as pg


def _is_postgres(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


class AddIndexConcurrently(pg.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, ``CREATE INDEX`` elsewhere."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _is_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _is_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index)


class RemoveIndexConcurrently(pg.RemoveIndexConcurrently):
    """``DROP INDEX CONCURRENTLY`` on PostgreSQL, ``DROP INDEX`` elsewhere."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _is_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if _is_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index)
