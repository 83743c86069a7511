from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imca_commissioning.dates import (
    Span,
    add_months,
    days_within,
    merge_spans,
    whole_months_between,
)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year clamps to 29 Feb
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 3, 20), 12, date(2026, 3, 20)),
        (date(2025, 5, 31), -3, date(2025, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
    ],
)
def test_add_months_keeps_day_and_clamps_to_month_end(start, n, expected):
    assert add_months(start, n) == expected


def test_an_absence_counts_its_first_and_last_days():
    assert (
        days_within(
            [Span(date(2025, 2, 1), date(2025, 2, 28))], date(2025, 1, 1), date(2025, 12, 31)
        )
        == 28
    )


def test_overlapping_absences_count_each_day_once():
    spans = merge_spans(
        [Span(date(2025, 1, 1), date(2025, 1, 10)), Span(date(2025, 1, 5), date(2025, 1, 20))]
    )
    assert days_within(spans, date(2025, 1, 1), date(2025, 12, 31)) == 20


def test_whole_months_between_respects_month_end():
    assert whole_months_between(date(2025, 1, 31), date(2025, 2, 27)) == 0
    assert whole_months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert whole_months_between(date(2025, 1, 1), date(2025, 3, 31)) == 2
    assert whole_months_between(date(2025, 1, 1), date(2025, 4, 1)) == 3
    assert whole_months_between(date(2025, 4, 1), date(2025, 1, 1)) == 0


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 240))
def test_whole_months_inverts_add_months(d, n):
    assert whole_months_between(d, add_months(d, n)) == n
