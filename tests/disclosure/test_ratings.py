"""A rating says something about the quarter before it: red for a second
quarter running is Inadequate. After a hidden figure, a red figure's rating
is hidden too, or it would say whether the hidden one was red."""

from __future__ import annotations

import pandas as pd

from monitor.disclosure.suppression import CONFIDENTIAL, suppress_board_performance
from tests.etl.test_suppression import _perf_row


def _series(actuals: list[float], rags: list[str], ratings: list[str]) -> pd.DataFrame:
    rows = [
        _perf_row(1, "", quarter, actual, rag=rag, rating=rating)
        for quarter, (actual, rag, rating) in enumerate(zip(actuals, rags, ratings, strict=True), start=1)
    ]
    return pd.DataFrame(rows)


def test_a_red_figure_after_a_hidden_one_keeps_its_rag_but_not_its_rating() -> None:
    performance = _series(
        [2, 10, 11, 30],
        ["red", "red", "red", "green"],
        ["Requires improvement", "Inadequate", "Inadequate", "Good"],
    )
    shown = suppress_board_performance(performance, threshold=4).sort_values("period_key")
    assert shown["marker"].tolist()[0] == CONFIDENTIAL
    q1, q2, q3, q4 = shown.to_dict("records")
    assert (q1["rag"], q1["rating"]) == (CONFIDENTIAL, CONFIDENTIAL)
    # Q2's "Inadequate" would say Q1 was red: hidden, its own rag still shown.
    assert (q2["rag"], q2["rating"]) == ("red", CONFIDENTIAL)
    # Q3 follows a figure the board can see: its rating stands.
    assert (q3["rag"], q3["rating"]) == ("red", "Inadequate")
    assert (q4["rag"], q4["rating"]) == ("green", "Good")


def test_green_and_amber_ratings_after_a_hidden_figure_are_shown() -> None:
    performance = _series([3, 10], ["red", "amber"], ["Requires improvement", "Approaching target"])
    q1, q2 = suppress_board_performance(performance, threshold=4).sort_values("period_key").to_dict("records")
    assert q1["rating"] == CONFIDENTIAL and q2["rating"] == "Approaching target"
