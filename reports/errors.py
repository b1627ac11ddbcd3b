"""Domain errors shared by every layer (a leaf: imports nothing of the project)."""

from __future__ import annotations


class WorkflowError(Exception):
    """A transition that the case's state or the input does not allow (message in Chinese)."""


class StorageUnavailable(Exception):
    """Photo storage cannot take a file: the disk is full, read-only or not writable.

    Not a ``WorkflowError``: the input is fine and sending it again unchanged cannot help
    until an operator frees space, so the phone must keep it rather than resend it
    (``jinzhitong.middleware`` answers 507 with ``"retry": false``). The message is Chinese.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "full" | "read_only" | "denied"
