"""The generator follows the transition table: no state change the table does not allow,
and a change to the table stops it rather than leaving it behind."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from django.core.management import call_command

from casegen import generator
from reports import workflow
from reports.models import ReportEvent, State

SMALL_TREE = ["--districts", "2", "--streets", "2", "--communities", "1", "--grids", "2"]


def _generate(count: int = 400) -> None:
    call_command(
        "generate_cases", "--count", str(count), "--days", "40", "--seed", "3", *SMALL_TREE,
        stdout=io.StringIO(),
    )


def _table_pairs() -> set[tuple[str, str]]:
    """Read here from the table itself, not through the generator's own helpers."""
    pairs = {("", State.REPORTED), ("", State.CLOSED)}  # filing (and self-handled filing)
    for t in workflow.TRANSITIONS.values():
        for source in t.sources:
            for target in t.targets or {source}:
                pairs.add((source, target))
    return pairs


def test_it_writes_only_state_changes_the_transition_table_allows(db: None) -> None:
    _generate()

    written = set(ReportEvent.objects.values_list("from_state", "to_state").distinct())

    assert written - _table_pairs() == set()
    assert {(State.VERIFIED, State.CLOSED), (State.HANDLED, State.ACKNOWLEDGED)} <= written


def test_it_stops_open_histories_only_in_states_the_table_leads_out_of(db: None) -> None:
    left = {s for t in workflow.TRANSITIONS.values() if t.targets for s in t.sources}

    stops = generator.open_stops()

    assert set(stops) <= left
    assert State.CLOSED not in stops and State.REPORTED in stops


def test_a_lifecycle_change_stops_the_generator_instead_of_leaving_it_behind(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Suppose closing now needs a second check: verified cases can no longer be closed.
    close = workflow.TRANSITIONS["close"]
    monkeypatch.setitem(
        workflow.TRANSITIONS, "close", replace(close, sources=frozenset({State.HANDLED}))
    )

    with pytest.raises(generator.LifecycleDrift, match="close"):
        _generate(count=100)
