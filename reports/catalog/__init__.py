"""The case catalogue and the routing-rule table as data: load, import, export, check.

- ``import_catalog`` / ``export_catalog``: categories (大类/小类) and filing standards
  (立案条件) as one CSV or XLSX table (columns in ``reports.resources.CATALOG_COLUMNS``,
  described in seeds/make_categories.py).
- ``import_rules`` / ``export_rules``: the routing rules as a table (docs/routing-rules.md).
- Both imports are all or nothing: every row is validated first, any error raises
  ``CatalogImportError`` / ``RuleImportError`` with one "第N行：…" message per problem
  (N is the spreadsheet row, the header being row 1) and nothing is written. Rows are
  upserted by code (rules: by id or by their natural key), so importing the same file
  twice changes nothing. Nothing is ever deleted by an import: to retire a category or a
  rule, set its ``active`` to 0.
- ``load_rule_table`` builds the ``reports.routing.RuleTable`` from the database (one
  query); ``region_paths`` / ``category_paths`` give the root → node id paths that
  ``route`` and ``uncovered_pairs`` take; ``check_rules`` backs the admin's
  规则检查 page and the ``check_rules`` command; the 试分拨 page uses
  ``reports.dispatching.dry_run``, next to the routing it explains.
"""

from reports.catalog.rules import (
    ConflictLine,
    MisfitRule,
    RegionTree,
    RuleCheck,
    UncoveredRegion,
    cached_rule_table,
    category_path_of,
    category_paths,
    check_rules,
    load_rule_table,
    names_for,
    region_path_of,
    region_paths,
    region_tree,
    reset_rule_table_cache,
    rule_conflict_warnings,
    rule_delete,
    rule_department_errors,
    rule_save,
)
from reports.catalog.tables import (
    CatalogImportError,
    ImportResult,
    RuleImportError,
    TableImportError,
    catalog_dataset,
    category_errors,
    category_save,
    export_catalog,
    export_rules,
    file_format,
    import_catalog,
    import_rules,
    rules_dataset,
    rules_set_active,
    standard_delete,
    standard_save,
)
from reports.fit import DEPARTMENT_LEVELS

__all__ = [
    "DEPARTMENT_LEVELS",
    "CatalogImportError",
    "ConflictLine",
    "ImportResult",
    "MisfitRule",
    "RegionTree",
    "RuleCheck",
    "RuleImportError",
    "TableImportError",
    "UncoveredRegion",
    "cached_rule_table",
    "catalog_dataset",
    "category_errors",
    "category_path_of",
    "category_paths",
    "category_save",
    "check_rules",
    "export_catalog",
    "export_rules",
    "file_format",
    "import_catalog",
    "import_rules",
    "load_rule_table",
    "names_for",
    "region_path_of",
    "region_paths",
    "region_tree",
    "reset_rule_table_cache",
    "rule_conflict_warnings",
    "rule_delete",
    "rule_department_errors",
    "rule_save",
    "rules_dataset",
    "rules_set_active",
    "standard_delete",
    "standard_save",
]
