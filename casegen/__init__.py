"""Data tools that write case histories in bulk (benchmarks, the demo), outside the domain.

``casegen.generator`` writes the rows the workflow would have written, reading the lifecycle
from ``reports.workflow.TRANSITIONS``; ``casegen.demo`` gives the demo city its history.
"""
