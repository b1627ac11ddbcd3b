"""Admin for the reports app, one module per subject (importing them registers them):

- ``calendar``: office hours and the work calendar;
- ``catalogue``: categories with their filing standards, and the stage limits;
- ``rules``: routing rules with import/export, 规则检查 and 试分拨;
- ``cases``: the read-only case list and case page;
- ``tables``: what they share — table import/export, and ``CityWideAdmin`` (city-wide
  tables are written by city-level administrators only).
"""

from reports.admin import calendar, cases, catalogue, rules

__all__ = ["calendar", "cases", "catalogue", "rules"]
