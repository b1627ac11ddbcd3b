"""Scores (考核): weighted sums of rates, with dated, validated weights."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from evaluation import rates as r
from evaluation.models import ScoreKind
from evaluation.services import DEFAULT_WEIGHTS, weights_in_force, weights_set
from tests.conftest import City


def test_it_scores_a_weighted_sum_counting_lower_is_better_rates_inverted() -> None:
    values = {"handle_on_time_rate": Decimal(90), "rework_rate": Decimal(10)}

    score = r.score(values, {"handle_on_time_rate": 50, "rework_rate": 50})

    assert score == Decimal("90.0")  # (90 + (100 − 10)) / 2


def test_it_drops_a_rate_with_nothing_to_judge_and_scales_the_other_weights() -> None:
    values = {"handle_on_time_rate": Decimal(80), "return_rate": None}

    assert r.score(values, {"handle_on_time_rate": 60, "return_rate": 40}) == Decimal("80.0")
    assert r.score({"return_rate": None}, {"return_rate": 100}) is None


def test_it_scores_a_grid_worker_with_their_own_rates() -> None:
    counts = {"triaged": 10, "valid": 9, "self_handled": 2, "verified": 4, "verify_on_time": 3}
    values = r.rates(counts, r.WORKER_RATES)

    score = r.score(values, DEFAULT_WEIGHTS[ScoreKind.WORKER], r.WORKER_RATES_BY_KEY)

    # 有效上报率 90 × 40% + 按时核查率 75 × 30% + 自处率 20 × 30% = 36 + 22.5 + 6
    assert score == Decimal("64.5")


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"handle_on_time_rate": 60}, "各项权重之和须为 100，现为 60"),
        ({"nonsense": 100}, "未知指标“nonsense”"),
        ({"handle_on_time_rate": -10, "close_rate": 110}, "须为非负整数"),
        ({"handle_on_time_rate": "abc"}, "须为整数"),
        ([], "权重须为"),
    ],
)
def test_it_refuses_bad_weights_with_a_chinese_message(
    city: City, weights: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        weights_set(city=city.city, kind=ScoreKind.REGION, valid_from=date(2025, 1, 1),
                    weights=weights)

    assert weights_in_force(city.city, ScoreKind.REGION, date(2025, 6, 1)) == (
        DEFAULT_WEIGHTS[ScoreKind.REGION]
    )


def test_it_scores_each_period_with_the_weights_in_force_on_its_first_day(city: City) -> None:
    weights_set(city=city.city, kind=ScoreKind.DEPARTMENT, valid_from=date(2025, 1, 1),
                weights={"handle_on_time_rate": 100})
    weights_set(city=city.city, kind=ScoreKind.DEPARTMENT, valid_from=date(2025, 4, 1),
                weights={"handle_on_time_rate": 50, "return_rate": 50})

    assert weights_in_force(city.city, ScoreKind.DEPARTMENT, date(2025, 3, 1)) == {
        "handle_on_time_rate": 100
    }
    assert weights_in_force(city.city, ScoreKind.DEPARTMENT, date(2025, 4, 1)) == {
        "handle_on_time_rate": 50, "return_rate": 50,
    }


def test_it_refuses_weights_for_a_region_below_the_city(city: City) -> None:
    with pytest.raises(ValidationError, match="须按城市设置"):
        weights_set(city=city.district, kind=ScoreKind.REGION, valid_from=date(2025, 1, 1),
                    weights={"close_rate": 100})


def test_it_lets_only_a_superuser_edit_weights_in_the_admin(
    city: City, admin_user: User, leader: User
) -> None:
    admin_client, other = Client(), Client()
    admin_client.force_login(admin_user)
    other.force_login(leader)
    url = "/admin/evaluation/scoreweights/add/"

    refused = other.get(url)
    bad = admin_client.post(url, {"city": city.city.pk, "kind": "region",
                                  "valid_from": "2025-01-01", "weights": '{"close_rate": 60}'})
    good = admin_client.post(url, {"city": city.city.pk, "kind": "region",
                                   "valid_from": "2025-01-01", "weights": '{"close_rate": 100}'})

    assert refused.status_code in (302, 403)
    assert "各项权重之和须为 100，现为 60" in bad.content.decode()
    assert good.status_code == 302
    assert weights_in_force(city.city, ScoreKind.REGION, date(2025, 2, 1)) == {"close_rate": 100}
