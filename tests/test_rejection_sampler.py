"""api.identity.audit.RejectionSampler: refused credentials write a bounded number of audit rows,
and the ones not written are still counted."""

import logging

import pytest

from api.identity.audit import RejectionSampler


def test_one_row_per_address_and_event_per_window() -> None:
    sampler = RejectionSampler(window=60, max_rows=10)
    assert [sampler.admit("token_rejected", "10.0.0.1") for _ in range(3)] == [True, False, False]
    assert sampler.admit("token_rejected", "10.0.0.2")
    assert sampler.admit("other_event", "10.0.0.1")
    assert sampler.skipped[("token_rejected", "10.0.0.1")] == 2


def test_at_most_max_rows_in_a_window_whatever_the_addresses() -> None:
    sampler = RejectionSampler(window=60, max_rows=5)
    admitted = [sampler.admit("token_rejected", f"10.0.{n // 256}.{n % 256}") for n in range(1000)]
    assert sum(admitted) == 5
    assert sum(sampler.skipped.values()) == 995


def test_a_new_window_admits_again_and_logs_what_was_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sampler = RejectionSampler(window=0.0, max_rows=5)  # every call opens a new window
    sampler.window = 60
    assert sampler.admit("token_rejected", "10.0.0.1")
    assert not sampler.admit("token_rejected", "10.0.0.1")
    sampler.window = 0.0
    with caplog.at_level(logging.WARNING, logger="api.identity.audit"):
        assert sampler.admit("token_rejected", "10.0.0.1")
    assert "token_rejected: 1 more from 10.0.0.1" in caplog.text
