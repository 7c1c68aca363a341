from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.conf import settings

from feed.analyzers.minilm import MiniLM, minilm_get


class CountingSession:
    """The real session, counting the rows it is asked to embed."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.rows = 0

    def run(self, outputs: Any, feeds: dict[str, np.ndarray]) -> Any:
        self.rows += len(feeds["input_ids"])
        return self.session.run(outputs, feeds)


@pytest.fixture
def counted() -> tuple[MiniLM, CountingSession]:
    shared = minilm_get()
    session = CountingSession(shared._session)
    model = MiniLM(
        session,  # type: ignore[arg-type]
        shared._tokenizer,
        cache_rows=16,
        rows_per_run=shared._rows_per_run,
    )
    return model, session


def test_a_sentence_embedded_once_is_not_run_through_the_model_again(counted) -> None:
    model, session = counted
    first = model.embed(["GPU prices keep rising.", "A walk in the park."])
    again = model.embed(["A walk in the park.", "GPU prices keep rising.", "Something new."])
    assert session.rows == 3
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])


def test_a_cached_vector_equals_the_one_computed_among_other_sentences(counted) -> None:
    model, _ = counted
    alone = model.embed(["Conference reviews came back today."])[0]
    shared = minilm_get()
    fresh = MiniLM(shared._session, shared._tokenizer, rows_per_run=shared._rows_per_run)
    among = fresh.embed(
        ["short", "Conference reviews came back today.", "a much longer sentence " * 8]
    )[1]
    assert np.array_equal(alone, among)


def test_the_vector_cache_is_bounded() -> None:
    shared = minilm_get()
    session = CountingSession(shared._session)
    model = MiniLM(session, shared._tokenizer, cache_rows=2)  # type: ignore[arg-type]
    model.embed(["one", "two", "three"])
    model.embed(["one"])  # evicted: computed again
    assert session.rows == 4


def test_a_returned_row_changed_by_the_caller_leaves_the_cache_intact(counted) -> None:
    model, _ = counted
    rows = model.embed(["a post about something"])
    rows[0] -= 1.0
    assert np.linalg.norm(model.embed(["a post about something"])[0]) == pytest.approx(1.0)


def test_with_no_cache_rows_every_call_runs_the_model() -> None:
    shared = minilm_get()
    session = CountingSession(shared._session)
    model = MiniLM(session, shared._tokenizer, cache_rows=0)  # type: ignore[arg-type]
    model.embed(["one", "two"])
    model.embed(["one"])
    assert session.rows == 3


def test_the_shared_model_keeps_as_many_rows_as_configured() -> None:
    assert minilm_get()._cache_rows == settings.DIYMOD_SENTENCE_CACHE_ROWS > 0
