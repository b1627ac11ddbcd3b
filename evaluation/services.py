"""Writes of the evaluation app: score weights, and the rollup entry points for tasks and
commands (the folding itself lives in ``evaluation.rollup``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evaluation.models import ScoreKind, ScoreWeights
from evaluation.rates import RATES_BY_KEY, WORKER_RATES_BY_KEY, Rate
from evaluation.rollup import rollups_catch_up, rollups_rebuild
from grids.models import Level, Region

__all__ = [
    "DEFAULT_WEIGHTS",
    "rate_table_for",
    "rollups_catch_up",
    "rollups_rebuild",
    "weights_clean",
    "weights_in_force",
    "weights_set",
]

# Used while a city has no weights of its own (docs/evaluation.md, 考核).
DEFAULT_WEIGHTS: dict[str, dict[str, int]] = {
    ScoreKind.REGION: {
        "accept_on_time_rate": 10,
        "dispatch_on_time_rate": 10,
        "handle_on_time_rate": 25,
        "close_rate": 20,
        "close_on_time_rate": 25,
        "rework_rate": 10,
    },
    ScoreKind.DEPARTMENT: {
        "handle_on_time_rate": 40,
        "close_on_time_rate": 20,
        "rework_rate": 15,
        "return_rate": 15,
        "extension_rate": 10,
    },
    ScoreKind.WORKER: {"valid_rate": 40, "verify_on_time_rate": 30, "self_handled_rate": 30},
}


def rate_table_for(kind: str) -> Mapping[str, Rate]:
    return WORKER_RATES_BY_KEY if kind == ScoreKind.WORKER else RATES_BY_KEY


def weights_clean(kind: str, weights: Any) -> dict[str, int]:
    """Known rate keys, whole non-negative percentages summing to 100; else a Chinese error."""
    if not isinstance(weights, Mapping) or not weights:
        raise ValidationError(_("权重须为“指标: 百分比”的对应表"))
    table = rate_table_for(kind)
    out: dict[str, int] = {}
    for key, value in weights.items():
        if key not in table:
            raise ValidationError(
                _("未知指标“%(key)s”，可用：%(keys)s") % {"key": key, "keys": "、".join(table)}
            )
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(_("“%(key)s”的权重须为整数") % {"key": key}) from None
        if number != number.to_integral_value() or number < 0:
            raise ValidationError(_("“%(key)s”的权重须为非负整数") % {"key": key})
        out[key] = int(number)
    if sum(out.values()) != 100:
        raise ValidationError(
            _("各项权重之和须为 100，现为 %(sum)s") % {"sum": sum(out.values())}
        )
    return out


def weights_set(
    *, city: Region, kind: str, valid_from: date, weights: Any, note: str = ""
) -> ScoreWeights:
    """Put weights in force from a date. A row for an earlier date is never changed, so a
    period already scored keeps its score."""
    if city.level != Level.CITY:
        raise ValidationError(_("考核权重须按城市设置"))
    if kind not in ScoreKind.values:
        raise ValidationError(_("未知的考核对象"))
    clean = weights_clean(kind, weights)
    with transaction.atomic():
        row, _created = ScoreWeights.objects.update_or_create(
            city=city, kind=kind, valid_from=valid_from,
            defaults={"weights": clean, "note": note.strip()},
        )
    return row


def weights_in_force(city: Region | None, kind: str, on: date) -> dict[str, int]:
    """The weights of the row in force on ``on`` (the first day of the scored period)."""
    if city is not None:
        row = (
            ScoreWeights.objects.filter(city=city, kind=kind, valid_from__lte=on)
            .order_by("-valid_from")
            .first()
        )
        if row is not None:
            return dict(row.weights)
    return dict(DEFAULT_WEIGHTS[kind])
