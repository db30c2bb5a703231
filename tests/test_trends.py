"""Aspect trends per month and change detection between windows (core, no Dagster)."""

import pandas as pd
import pytest

from reviewlens_dagster.core.analysis.extract import lexicon_mentions, resolve_polarities
from reviewlens_dagster.core.analysis.trends import ROSE, TOO_FEW, ChangeRule, detect_changes, monthly_trends, wilson


def test_wilson_interval():
    assert wilson(0, 0) == (None, None, None)
    share, lo, hi = wilson(5, 10)
    assert share == 0.5 and lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)
    share, lo, hi = wilson(0, 10)
    assert share == 0 and lo == 0 and hi == pytest.approx(0.2775, abs=1e-3)  # never below 0


def _frame(rows):
    return pd.DataFrame(rows, columns=["restaurant_id", "review_id", "text", "created_at"])


def test_months_with_their_n_and_undated_reviews_left_out():
    rev = _frame(
        [
            ("r", "a", "배달이 너무 늦어요", "2026-01-05"),
            ("r", "b", "배달 빨라요", "2026-01-20"),
            ("r", "c", "맛있어요", "2026-02-02"),
            ("r", "d", "배달이 늦어요", None),  # undated: counted as such, in no month
        ]
    )
    men = resolve_polarities(lexicon_mentions(rev)[0])
    trends, undated = monthly_trends(rev, men)
    assert undated == {"r": 1}
    d = trends[trends["aspect"] == "배달"].set_index("month")
    assert list(d.index) == ["2026-01", "2026-02"]  # a month with reviews but no mention keeps its row (n)
    assert d.loc["2026-01", ["reviews", "mentions", "negative", "positive"]].tolist() == [2, 2, 1, 1]
    assert d.loc["2026-02", "mentions"] == 0 and pd.isna(d.loc["2026-02", "negative_share"])


def test_one_month_and_too_few_recent_reviews_say_so_instead_of_alarming():
    one = _frame([("r", f"x{i}", "배달이 늦어요", "2026-03-0" + str(1 + i % 9)) for i in range(30)])
    ch = detect_changes(one, resolve_polarities(lexicon_mentions(one)[0]))
    assert set(ch["status"]) == {TOO_FEW} and ch["note"].iloc[0] == "one month of dated reviews (2026-03)"
    few = _frame(
        [("r", f"p{i}", "배달 빨라요", f"2025-{1 + i % 6:02d}-10") for i in range(30)]
        + [("r", f"n{i}", "배달이 늦어요", f"2025-{7 + i % 3:02d}-10") for i in range(6)]
    )
    ch = detect_changes(few, resolve_polarities(lexicon_mentions(few)[0]))
    assert set(ch["status"]) == {TOO_FEW} and ch["note"].iloc[0] == f"{TOO_FEW} (6)"


def test_a_planted_rise_is_found_and_a_steady_restaurant_raises_nothing():
    steady = [
        ("s", f"s{i}", ["배달 빨라요", "배달이 늦어요", "맛있어요"][i % 3], f"2025-{1 + i % 9:02d}-15")
        for i in range(90)
    ]
    rising = [("r", f"a{i}", "배달 빨라요", f"2025-{1 + i % 6:02d}-15") for i in range(60)]
    rising += [
        ("r", f"b{i}", "배달이 너무 늦어서 다 식었어요" if i % 3 else "맛있어요", f"2025-{7 + i % 3:02d}-15")
        for i in range(30)
    ]
    rev = _frame(steady + rising)
    ch = detect_changes(rev, resolve_polarities(lexicon_mentions(rev)[0]), ChangeRule())
    got = ch[ch["status"] == ROSE]
    assert got[["restaurant_id", "aspect"]].values.tolist() == [["r", "배달"]]
    row = got.iloc[0]
    assert row.previous_share == 0 and row.recent_share == pytest.approx(20 / 30) and row.q_value < 0.05
    assert len(row.evidence_review_ids) == 5 and row.quote and (row.recent_reviews, row.previous_reviews) == (30, 60)


def test_the_sample_generator_plants_one_shift_that_is_found_without_false_alarms():
    from reviewlens_dagster.synthetic import generate

    reviews, truth = generate(7, 32)
    frame = pd.DataFrame(reviews)
    changes = detect_changes(frame, resolve_polarities(lexicon_mentions(frame)[0]))
    rose = {(r.restaurant_id, r.aspect) for r in changes[changes["status"] == ROSE].itertuples()}
    assert rose == {(rid, x["aspect"]) for rid, x in truth["shifts"].items()} and len(rose) == 1
    assert changes["restaurant_id"].nunique() == 32  # every restaurant is answered, tested or "not enough"
