"""A child region must be exactly one level below its parent, checked by the database.

The check constraint level == depth (0001) trusts mptt's depth column; this trigger
checks the parent link itself, so a raw INSERT/UPDATE cannot put a grid under a street.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION grids_region_check_parent_level() RETURNS trigger AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        IF NEW.level <> 0 THEN
            RAISE EXCEPTION 'grids_region_parent_level: region %% without parent must be a city', NEW.code
                USING ERRCODE = '23514';
        END IF;
    ELSIF NOT EXISTS (
        SELECT 1 FROM grids_region p WHERE p.id = NEW.parent_id AND p.level = NEW.level - 1
    ) THEN
        RAISE EXCEPTION 'grids_region_parent_level: region %% must be one level below its parent', NEW.code
            USING ERRCODE = '23514';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.level <> OLD.level AND EXISTS (
        SELECT 1 FROM grids_region c WHERE c.parent_id = NEW.id AND c.level <> NEW.level + 1
    ) THEN
        RAISE EXCEPTION 'grids_region_parent_level: children of %% would not be one level below it', NEW.code
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER grids_region_parent_level
    BEFORE INSERT OR UPDATE OF parent_id, level ON grids_region
    FOR EACH ROW EXECUTE FUNCTION grids_region_check_parent_level();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS grids_region_parent_level ON grids_region;
DROP FUNCTION IF EXISTS grids_region_check_parent_level();
"""

_SQLITE_BAD_PARENT = """
    (NEW.parent_id IS NULL AND NEW.level <> 0)
    OR (NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM grids_region p WHERE p.id = NEW.parent_id AND p.level = NEW.level - 1))
"""

SQLITE_FORWARD = [
    f"""
CREATE TRIGGER grids_region_parent_level_insert BEFORE INSERT ON grids_region
WHEN {_SQLITE_BAD_PARENT}
BEGIN SELECT RAISE(ABORT, 'grids_region_parent_level: region must be one level below its parent'); END;
""",
    f"""
CREATE TRIGGER grids_region_parent_level_update BEFORE UPDATE OF parent_id, level ON grids_region
WHEN {_SQLITE_BAD_PARENT}
    OR (NEW.level <> OLD.level AND EXISTS (
        SELECT 1 FROM grids_region c WHERE c.parent_id = NEW.id AND c.level <> NEW.level + 1))
BEGIN SELECT RAISE(ABORT, 'grids_region_parent_level: region must be one level below its parent'); END;
""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS grids_region_parent_level_insert;",
    "DROP TRIGGER IF EXISTS grids_region_parent_level_update;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"no region level trigger for {vendor}")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [PG_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("grids", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
