"""The compiled tag scan (`feed/platforms/_tagscan.c`): exactly the Python loop's elements, in
the same order with the same attributes, on the real Reddit captures and on hostile markup;
and how html_tags chooses it (built or not, DIYMOD_TAGSCAN)."""

from __future__ import annotations

import importlib.util
import logging
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed.platforms import html_tags, tagscan_build
from feed.platforms.html_tags import Element, _elements_find, _hint_literal
from feed.platforms.reddit import _TEXT_SLOT_HINT, _WANTED_TAGS
from tests.feed.test_html_tags_scan import PIECES
from tests.support.captures import REAL_CAPTURES

ROOT = Path(__file__).resolve().parents[2]
REDDIT_CAPTURES = sorted(path.name for path in (REAL_CAPTURES / "reddit").glob("*.html"))
# Besides the Python test pieces: what only a hand-written tokenizer can get wrong. Names that
# lower-case to ASCII (the Kelvin sign) or not at all, end tags `re.IGNORECASE` folds (long s,
# dotted and dotless i), each width of str, and wanted names that are raw text, void or templates.
MORE_PIECES = [
    "<a\u212a slot=title>", "</a\u212a>", "<l\u00c9 slot=title>", "</l\u00e9>", "<ak>", "</AK>",
    "</\u017fcript>", "</scr\u0130pt>", "</scr\u0131pt>", "<script>", "</script>", "</SCRIPT >",
    "<textarea>", "</textarea/>", "<title>", "</title>", "<xmp>", "</xmp>", "<template>",
    "</template>", "<TEMPLATE slot=title>", "\u0100", "\U0001f600", "<\U0001f600>",
    "<a\U0001f600>", "<a b=\"\U0001f600\">", "<br slot=title>", "<img>", "</img>", "<a>", "</a>",
    "<div>", "</div>",
    "<!-->", "<!--->", "<!---->", "--!>", "-->", "<?x>", "<!", "<", "</", "</>", "< a>", "=",
    "'", '"', "<a b='x' c=\"y\" d=z>", "<a\tb\n=\r'\f'>", "<a b=''>", "</a b='>'>",
]  # fmt: skip
ALL_PIECES = PIECES + MORE_PIECES
HOSTILE = st.lists(st.sampled_from(ALL_PIECES) | st.text(max_size=6), max_size=50).map("".join)
# Other callers' choices: wanted names that are raw text, void or templates, and other hints.
OTHER_NAMES = frozenset({"a", "div", "template", "script", "br", "title", "ak", "l\u00e9"})
OTHER_HINTS = [re.compile(r"slot"), re.compile(r"b=['\"]?x"), re.compile(r"\U0001f600"),
               re.compile(r"(?:slot|b)="), re.compile(r"SLOT=T", re.IGNORECASE)]  # fmt: skip


def elements_exactly(elements: list[Element]) -> list[tuple]:
    """Everything of each element, attributes as written and in their order (the mapping's own
    equality decodes values and ignores order)."""
    return [(element.tag, list(element.attributes._raw.items()), element.parent,
             element.in_template, element.close_start, element.close_end)
            for element in elements]  # fmt: skip


@pytest.fixture(scope="module")
def compiled() -> Callable[..., list[Element]]:
    if importlib.util.find_spec("feed.platforms._tagscan") is None:
        pytest.skip("the compiled tag scan is not built (make install builds it)")
    scan = html_tags._compiled_elements_find or _load_without_the_variable()
    assert scan is not None
    return scan


def _load_without_the_variable() -> Callable[..., list[Element]] | None:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DIYMOD_TAGSCAN", raising=False)
        return html_tags._compiled_scan_load()


def assert_same_as_python(compiled, body: str, names=_WANTED_TAGS, hint=_TEXT_SLOT_HINT) -> None:
    """The compiled scan with the hint's literal start and without (it then searches the hint
    in the whole source), against the Python loop reading every tag and skipping."""
    found = elements_exactly(compiled(body, names, hint, _hint_literal(hint)))
    assert found == elements_exactly(compiled(body, names, hint, ""))
    assert found == elements_exactly(_elements_find(body, names, hint, skip=False))
    assert found == elements_exactly(_elements_find(body, names, hint, skip=True))


@pytest.mark.parametrize("name", REDDIT_CAPTURES or ["(no captures)"])
def test_the_compiled_scan_finds_what_the_python_loop_finds_on_real_pages(compiled, name) -> None:
    path = REAL_CAPTURES / "reddit" / name
    if not path.exists():
        pytest.skip(f"the real Reddit captures are not in {REAL_CAPTURES}")
    body = path.read_text()
    assert_same_as_python(compiled, body)
    assert_same_as_python(compiled, body, OTHER_NAMES, OTHER_HINTS[0])


# One case per tokenizing rule of `_TOKEN`, `_close` and the raw-text ends, each with a
# recorded element just after the spot the rule decides (random markup seldom hits some).
RULES = [
    "<!-- a --!><a slot=title>x</a> -->", "<!-- a --><a slot=title>", "<!--><a slot=title>",
    "<!---><a slot=title>", "<!----><a slot=title>", "<!-- -- ><a slot=title>--><a slot=title>",
    "<!--- -!><a slot=title>-->", "<!----!><a slot=title>-->",
    "<?x <a slot=title> ?><a slot=title>",
    "<!x <a slot=title>><a slot=title>", "<!-x><a slot=title>", "<a b='x>y' slot=title>",
    "<a b= 'x>y'><a slot=title>", '<a b=\t"x>" slot=title>', "<a b='x slot=title>",
    '<a b="x slot=title>', "<a b\"='>' slot=title>", "<a b=x'>' slot=title>",
    "<template><a slot=title></template><a slot=title>", "</template><template slot=title>",
    "<script><a slot=title></\u017fcript><a slot=title></script><a slot=title>",
    "<style><a slot=title></scr\u0130pt></STYLE\t><a slot=title>",
    "<title><a slot=title></title/><a slot=title>", "<textarea><a slot=title>",
    "<l\u00c9 slot=title><l\u00e9></L\u00c9></l\u00c9>", "<a\u212a slot=title><ak></a\u212a></ak>",
    "<a\tslot=title>", "<a\fslot=title>", "<a/slot=title>", "<a\nslot = 'title' >",
    "<shreddit-post><div slot=text-body><div></div><p></div></shreddit-post>",
    "<a slot=title><b slot=title></a></b>", "<a slot=title><b slot=title><a></b></a></a>",
    "<a slot=title", "<shreddit-post id=x", "<img slot=title></img><br slot=title>",
    "</a/><a slot=title>", "< a slot=title>", "</ a><a slot=title>", "<a slot=title></a",
    # Attributes as `_ATTRIBUTE` reads them: `==` makes a bare value of a quoted one, capitals
    # and the Kelvin sign are lowered (then names collide), the first occurrence wins.
    '<a b=="x>y" slot=title>', "<a b=='x>y' c d= e=f slot=title>", "<img SRC=a src=b Src=c>",
    "<img \u212a=1 k=2 \u00c9=3>", "<img a=1 a=2 b a=3>", "<img a\"b=1 'c=2 =d /e=3 f/=4>",
    "<img a = \"1\" b= '2' c =3 d\t=\n4>", "<img a=\"1 b='2\">", "<img a='1 b=\"2'>",
]  # fmt: skip


@pytest.mark.parametrize("body", RULES)
def test_each_tokenizing_rule_reads_as_in_python(compiled, body: str) -> None:
    assert_same_as_python(compiled, body)
    assert_same_as_python(compiled, body, OTHER_NAMES, OTHER_HINTS[0])


@settings(max_examples=500, deadline=None)
@given(HOSTILE)
def test_the_compiled_scan_finds_what_the_python_loop_finds_on_hostile_markup(
    compiled, body: str
) -> None:
    assert_same_as_python(compiled, body)


@settings(max_examples=300, deadline=None)
@given(HOSTILE, st.sampled_from(OTHER_HINTS))
def test_the_compiled_scan_agrees_for_other_names_and_hints(compiled, body: str, hint) -> None:
    assert_same_as_python(compiled, body, OTHER_NAMES, hint)


@pytest.mark.parametrize("widest", ["", "\u00e9", "\u0100", "\U0001f600"])
def test_every_width_of_str_reads_the_same(compiled, widest: str) -> None:
    body = (
        f"<p>{widest}</p><shreddit-post id=t3_{widest}><a slot=title data-x='{widest}>'>t</a>"
        f"<script><a slot=title>{widest}</script ><img src={widest}></shreddit-post>"
    )
    assert_same_as_python(compiled, body)
    found = html_tags.html_elements_find(body, _WANTED_TAGS, _TEXT_SLOT_HINT)
    assert [element.name for element in found] == ["shreddit-post", "a", "img"]


HOSTILE_LARGE = {
    "unclosed quotes": '<a b="' * 40_000 + "<a slot=title>" + "<a c='x" * 40_000,
    "values after =": '<a =" ' * 40_000 + "<p slot=title>",
    "unclosed comment": "<a slot=title>" + "<!--" * 50_000,
    "unclosed script": "<script>" * 50_000,
    "nested recorded": "<a slot=title><b slot=title>" * 20_000 + "</a>" * 20_000,
    "namesakes": "<a slot=title>" + "<a><div>" * 40_000 + "</a></div>" * 40_000,
    "distinct names": "".join(f"<x{n} slot=title><x{n}>" for n in range(20_000)),
    "cut-off tag": "<a slot=title>" + "<a b=" + "x" * 300_000,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_LARGE))
def test_hostile_pages_take_linear_time(compiled, kind: str) -> None:
    """Each body is ~300 kB; a quadratic rescan would take minutes, the scan well under 1 s."""
    body = HOSTILE_LARGE[kind]
    for literal in ("slot", ""):
        started = time.process_time()
        found = compiled(body, _WANTED_TAGS, _TEXT_SLOT_HINT, literal)
        assert time.process_time() - started < 2.0
    assert elements_exactly(found) == elements_exactly(
        _elements_find(body, _WANTED_TAGS, _TEXT_SLOT_HINT, skip=False)
    )


class HintFailing:
    """A hint whose `search` raises on its third call: the scan stops with that error."""

    def __init__(self) -> None:
        self.calls = 0

    def search(self, source: str, *positions: int) -> re.Match[str] | None:
        self.calls += 1
        if self.calls == 3:
            raise ValueError("hint failed")
        return _TEXT_SLOT_HINT.search(source, *positions)


def test_an_error_in_the_hint_propagates_and_leaks_nothing(compiled) -> None:
    body = "<shreddit-post><a slot=title><div slot=text-body>" * 20
    references = sys.getrefcount(body), sys.getrefcount(_WANTED_TAGS)
    for literal in ("slot", "") * 25:
        with pytest.raises(ValueError, match="hint failed"):
            compiled(body, _WANTED_TAGS, HintFailing(), literal)
        compiled(body, _WANTED_TAGS, _TEXT_SLOT_HINT, literal)
    assert (sys.getrefcount(body), sys.getrefcount(_WANTED_TAGS)) == references


def test_the_hints_literal_start_is_read_only_where_every_match_has_it() -> None:
    assert _hint_literal(_TEXT_SLOT_HINT) == "slot"
    assert _hint_literal(re.compile(r"(?x) b = [x] y*")) == "b=x"
    for hint in OTHER_HINTS[3:] + [re.compile(r"(slot)"), re.compile(r"(?<=a)b")]:
        assert _hint_literal(hint) == ""


def test_the_compiled_scan_is_built_wherever_a_compiler_is_found() -> None:
    """The one test that fails rather than skips without the extension: where a compiler and
    Python's headers exist, `make install` must have built it (CI notices a broken build)."""
    compiler = tagscan_build.build_command(Path("unused"))[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(compiler) is None or not headers.exists():
        pytest.skip(f"no C compiler ({compiler}) or no Python headers: the Python scan is used")
    assert importlib.util.find_spec("feed.platforms._tagscan") is not None, (
        "a C compiler is here but feed/platforms/_tagscan.c is not built: run "
        "`python feed/platforms/tagscan_build.py` and read its line"
    )


def test_the_variable_forces_the_python_scan_with_one_log_line(monkeypatch, caplog) -> None:
    monkeypatch.setenv("DIYMOD_TAGSCAN", "python")
    with caplog.at_level(logging.INFO, logger=html_tags.logger.name):
        assert html_tags._compiled_scan_load() is None
    assert [record.getMessage() for record in caplog.records] == [
        "DIYMOD_TAGSCAN=python: the pure-Python tag scan is used"
    ]


def test_without_the_extension_the_python_scan_is_used_with_one_log_line(
    monkeypatch, caplog
) -> None:
    monkeypatch.delenv("DIYMOD_TAGSCAN", raising=False)
    monkeypatch.setitem(sys.modules, "feed.platforms._tagscan", None)  # import raises
    with caplog.at_level(logging.INFO, logger=html_tags.logger.name):
        assert html_tags._compiled_scan_load() is None
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("WARNING", "feed/platforms/_tagscan.c is not built: the pure-Python tag scan is used")
    ]


def test_a_process_started_with_the_variable_scans_in_python() -> None:
    script = (
        "from feed.platforms import html_tags, feed_parse\n"
        "assert html_tags._compiled_elements_find is None\n"
        "assert feed_parse('reddit', '<shreddit-post id=t3_a></shreddit-post>').posts\n"
    )
    environment = {"DIYMOD_TAGSCAN": "python", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, check=True)


def test_a_failed_build_prints_one_line_and_does_not_fail(monkeypatch, tmp_path, capsys) -> None:
    target = tmp_path / "_tagscan.so"
    target.write_text("a build from an older source")
    monkeypatch.setattr(tagscan_build, "extension_path", lambda: target)
    monkeypatch.setattr(tagscan_build, "build_command", lambda path: ["/nonexistent/cc"])
    assert tagscan_build.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "the pure-Python tag scan will be used" in lines[0]
    assert list(tmp_path.iterdir()) == []
