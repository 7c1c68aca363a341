"""The int8 copy of the embedded model (DIYMOD_MINILM_INT8): derived once from the checked fp32
files, checked against its pinned sha256, close to fp32, and fp32 whenever it cannot be had."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from feed.analyzers.minilm import (
    INT8_FILE,
    INT8_SHA256,
    MODEL_HASH_PREFIX,
    MiniLM,
    _model_file,
    file_sha256,
    minilm_assets_dir,
    minilm_get,
    minilm_int8_derive,
)

SENTENCES = [
    "Found a huge spider in the bathroom this morning.",
    "The new GPU benchmarks are out and prices keep rising.",
    "Our startup just closed its seed round.",
    "先问问用户 Chrome 能不能正常用",
    "What a lovely walk in the park.",
]


@pytest.fixture(scope="module")
def int8_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    minilm_int8_derive(minilm_assets_dir(), directory)
    return directory


def session_of(path: Path):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_the_derived_copy_is_the_pinned_one_and_is_not_derived_again(int8_dir: Path) -> None:
    target = int8_dir / INT8_FILE
    assert file_sha256(target) == INT8_SHA256
    before = target.stat().st_mtime_ns
    assert minilm_int8_derive(minilm_assets_dir(), int8_dir) == target
    assert target.stat().st_mtime_ns == before


def test_a_damaged_copy_is_derived_again(tmp_path: Path, int8_dir: Path) -> None:
    (tmp_path / INT8_FILE).write_bytes(b"not a model")
    assert file_sha256(minilm_int8_derive(minilm_assets_dir(), tmp_path)) == INT8_SHA256
    assert [p.name for p in tmp_path.iterdir()] == [INT8_FILE]  # no partial file left


def test_int8_vectors_are_close_to_fp32(int8_dir: Path) -> None:
    shared = minilm_get()
    fp32 = MiniLM(session_of(minilm_assets_dir() / "onnx" / "model.onnx"), shared._tokenizer)
    int8 = MiniLM(session_of(int8_dir / INT8_FILE), shared._tokenizer)
    cosines = (fp32.embed(SENTENCES) * int8.embed(SENTENCES)).sum(axis=1)
    assert cosines.min() > 0.95, cosines
    assert not np.allclose(cosines, 1.0, atol=1e-6)  # it is a different model


def test_off_runs_fp32(tmp_path: Path) -> None:
    chosen = _model_file("off", tmp_path)
    assert chosen.tag == MODEL_HASH_PREFIX and chosen.path == Path("onnx") / "model.onnx"
    assert not any(tmp_path.iterdir())


def test_auto_runs_the_int8_copy(int8_dir: Path) -> None:
    chosen = _model_file("auto", int8_dir)
    assert chosen.path == int8_dir / INT8_FILE and chosen.tag == INT8_SHA256[:12]


def test_a_copy_that_cannot_be_written_falls_back_to_fp32_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "var").write_text("a file where the models folder would go")
    with caplog.at_level(logging.WARNING, logger="feed.analyzers.minilm"):
        chosen = _model_file("auto", tmp_path / "var" / "models")
    assert chosen.tag == MODEL_HASH_PREFIX
    lines = [r for r in caplog.records if r.name == "feed.analyzers.minilm"]
    assert len(lines) == 1 and "running fp32" in lines[0].getMessage()


def test_int8_rows_do_not_depend_on_their_batch_mates(int8_dir: Path) -> None:
    """Activations are quantized with one scale per run: one text per run keeps a sentence's
    vector its own (the sentence cache relies on it); batched, it would drift."""
    tokenizer = minilm_get()._tokenizer
    alone = MiniLM(session_of(int8_dir / INT8_FILE), tokenizer, rows_per_run=1)
    among = alone.embed(["short", SENTENCES[1], "a much longer sentence about GPUs " * 6])[1]
    assert np.array_equal(alone.embed([SENTENCES[1]])[0], among)
