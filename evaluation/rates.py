"""The rates (指标) and scores (考核), as pure functions over summed rollup counters.

One table, ``RATES``, says for every rate its numerator, its denominator and its formula;
the statistics pages, the leader's screen, the exports and docs/evaluation.md all use it,
so a rate means the same thing everywhere. No database access here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from evaluation.models import BUCKET_BOUNDS_US, DURATION_BUCKETS, DURATION_STAGES

Counts = Mapping[str, int]


def _minus(*names: str) -> Callable[[Counts], int]:
    def f(c: Counts) -> int:
        return max(0, c.get(names[0], 0) - sum(c.get(n, 0) for n in names[1:]))

    return f


def _get(name: str) -> Callable[[Counts], int]:
    return lambda c: c.get(name, 0)


@dataclass(frozen=True)
class Rate:
    key: str
    label: str | Promise
    numerator: Callable[[Counts], int]
    denominator: Callable[[Counts], int]
    formula: str | Promise
    # A score counts 100 − rate for rates where lower is better (返工率, 延期率, 回退率).
    higher_is_better: bool = True

    def value(self, counts: Counts) -> Decimal | None:
        """The rate in percent with one decimal, or None when the denominator is 0."""
        d = self.denominator(counts)
        if d <= 0:
            return None
        pct = Decimal(100 * self.numerator(counts)) / Decimal(d)
        return pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# 应结案数 = 立案数 − 挂账数 − 立案后合并数; on-time rates of closed cases use 结案数 − 曾挂账.
_due_to_close = _minus("accepted", "suspended", "merged_late")
_closed_counted = _minus("closed", "closed_suspended")

RATES: tuple[Rate, ...] = (
    Rate("valid_rate", _("有效上报率"), _get("valid"), _get("triaged"),
         _("有效上报数 ÷ 已核实上报数")),
    Rate("accept_rate", _("立案率"), _get("accepted"), _minus("triaged", "self_handled"),
         _("立案数 ÷ (已核实上报数 − 自处数)")),
    Rate("accept_on_time_rate", _("按时立案率"), _get("accept_on_time"), _get("accepted"),
         _("按时立案数 ÷ 立案数")),
    Rate("dispatch_on_time_rate", _("按时派遣率"), _get("dispatch_on_time"), _closed_counted,
         _("按时派遣数 ÷ (结案数 − 曾挂账结案数)")),
    Rate("handle_rate", _("处置率"), _get("handled"), _minus("dispatched", "suspended"),
         _("处置数 ÷ (派遣数 − 挂账数)")),
    Rate("handle_on_time_rate", _("按期处置率"), _get("handle_on_time"), _closed_counted,
         _("按期处置数 ÷ (结案数 − 曾挂账结案数)")),
    Rate("verify_on_time_rate", _("按时核查率"), _get("verify_on_time"), _closed_counted,
         _("按时核查数 ÷ (结案数 − 曾挂账结案数)")),
    Rate("close_rate", _("结案率"), _get("closed"), _due_to_close,
         _("结案数 ÷ 应结案数（应结案数 = 立案数 − 挂账数 − 立案后合并数）")),
    Rate("close_on_time_rate", _("按期结案率"), _get("closed_on_time"), _due_to_close,
         _("按期结案数 ÷ 应结案数")),
    Rate("rework_rate", _("返工率"), _get("reworked"), _get("closed"),
         _("返工结案数 ÷ 结案数"), higher_is_better=False),
    Rate("extension_rate", _("延期率"), _get("extended"), _get("closed"),
         _("延期结案数 ÷ 结案数"), higher_is_better=False),
    Rate("return_rate", _("回退率"), _get("returns"), _get("dispatch_events"),
         _("回退次数 ÷ 派遣次数"), higher_is_better=False),
    Rate("self_handled_rate", _("自处率"), _get("self_handled"), _get("triaged"),
         _("自处数 ÷ 已核实上报数")),
)
RATES_BY_KEY: dict[str, Rate] = {r.key: r for r in RATES}

# The grid worker's own rates (WorkerDailyRollup counters).
WORKER_RATES: tuple[Rate, ...] = (
    RATES_BY_KEY["valid_rate"],
    Rate("verify_on_time_rate", _("按时核查率"), _get("verify_on_time"), _get("verified"),
         _("按时核查通过数 ÷ 核查通过数")),
    RATES_BY_KEY["self_handled_rate"],
)
WORKER_RATES_BY_KEY: dict[str, Rate] = {r.key: r for r in WORKER_RATES}

# The counts shown next to the rates.
COUNT_LABELS: dict[str, str | Promise] = {
    "reported": _("上报数"),
    "valid": _("有效上报数"),
    "accepted": _("立案数"),
    "self_handled": _("自处数"),
    "dispatched": _("派遣数"),
    "handled": _("处置数"),
    "closed": _("结案数"),
    "closed_on_time": _("按期结案数"),
    "suspended": _("挂账数"),
    "urged": _("督办数"),
    "overdue": _("超期数"),
}

STAGE_LABELS: dict[str, str | Promise] = {
    "accept": _("立案"),
    "dispatch": _("派遣"),
    "handle": _("处置"),
    "verify": _("核查"),
    "total": _("全流程"),
}


def rates(counts: Counts, table: tuple[Rate, ...] = RATES) -> dict[str, Decimal | None]:
    return {r.key: r.value(counts) for r in table}


def average_hours(counts: Counts, stage: str) -> Decimal | None:
    """Mean working hours of a stage over closed, not suspended cases."""
    n = _closed_counted(counts)
    if n <= 0:
        return None
    hours = Decimal(counts.get(f"secs_{stage}", 0)) / Decimal(3600 * n)
    return hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def median_hours(counts: Counts, stage: str) -> Decimal | None:
    """The median from the histogram, interpolated linearly inside its bucket."""
    buckets = [counts.get(f"h_{stage}_{i}", 0) for i in range(len(DURATION_BUCKETS) + 1)]
    n = sum(buckets)
    if n == 0:
        return None
    half = Decimal(n) / 2
    seen = 0
    for i, c in enumerate(buckets):
        if c and seen + c >= half:
            low = Decimal(0) if i == 0 else Decimal(str(DURATION_BUCKETS[i - 1]))
            if i == len(DURATION_BUCKETS):
                return low  # open bucket: the lower bound
            high = Decimal(str(DURATION_BUCKETS[i]))
            value = low + (high - low) * (half - seen) / Decimal(c)
            return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        seen += c
    return None  # pragma: no cover - the loop always returns


def bucket_of(hours: float) -> int:
    for i, bound in enumerate(DURATION_BUCKETS):
        if hours <= bound:
            return i
    return len(DURATION_BUCKETS)


def bucket_of_us(us: int) -> int:
    """The bucket of a duration in microseconds, exactly (bounds are whole seconds)."""
    for i, bound in enumerate(BUCKET_BOUNDS_US):
        if us <= bound:
            return i
    return len(BUCKET_BOUNDS_US)


def stage_hours(counts: Counts) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    return {s: (average_hours(counts, s), median_hours(counts, s)) for s in DURATION_STAGES}


def score(
    values: Mapping[str, Decimal | None], weights: Mapping[str, int | float | Decimal],
    table: Mapping[str, Rate] = RATES_BY_KEY,
) -> Decimal | None:
    """Σ weight × rate ÷ Σ weight over the rates that have a value (0–100, one decimal).

    A rate with no denominator in the period (nothing to judge) drops out and the other
    weights are scaled up, so a street with no dispatches is not scored 0 for dispatch."""
    total = Decimal(0)
    weight_sum = Decimal(0)
    for key, w in weights.items():
        rate = table.get(key)
        v = values.get(key)
        if rate is None or v is None:
            continue
        w = Decimal(str(w))
        total += w * (v if rate.higher_is_better else Decimal(100) - v)
        weight_sum += w
    if weight_sum == 0:
        return None
    return (total / weight_sum).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
