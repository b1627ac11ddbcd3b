"""Domain errors shared by every layer (a leaf: imports nothing of the project)."""

from __future__ import annotations


class WorkflowError(Exception):
    """A transition that the case's state or the input does not allow (message in Chinese)."""
