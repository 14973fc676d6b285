"""The HTML report: byte-exact golden pages, one self-contained file, user text escaped, chosen
from the ``-o`` extension, and the same bytes whatever the hash seed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import tomli_w

from thidua_rules import evaluate, load_data, load_policy, parse_data, render
from thidua_rules.cli import main
from thidua_rules.report.escape import html_cell, html_text

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT
from .test_messages import EXAMPLES
from .test_messages import _result as _example
from .test_report_escaping import _results

GOLDEN = ROOT / "tests" / "golden"
CANTHO_POLICY = ROOT / "policies" / "cantho-dan-van.toml"
CANTHO_DATA = ROOT / "examples" / "cantho-2025" / "units.toml"


@pytest.fixture(scope="module")
def cantho_policy():
    return load_policy(CANTHO_POLICY, display="policies/cantho-dan-van.toml")


@pytest.fixture(scope="module")
def cantho_result(cantho_policy):
    return evaluate(cantho_policy, load_data(CANTHO_DATA, cantho_policy, display="examples/cantho-2025/units.toml"))


def _awaiting_vote(example_policy):
    """The example without its ballots: the ministry flag waits for the council's vote."""
    raw = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"), parse_float=Decimal)
    del raw["votes"]
    return evaluate(example_policy, parse_data(tomli_w.dumps(raw).encode(), example_policy, file="units.toml"))


def _tie_at_cut(cantho_policy):
    """The tie-break case of policies/cantho-dan-van.tests.toml: t1 and t2 tie across the cut
    of the three Bằng khen, and the council decides."""
    cases = tomllib.loads((ROOT / "policies" / "cantho-dan-van.tests.toml").read_text(encoding="utf-8"),
                          parse_float=Decimal)["cases"]
    case = next(c for c in cases if c["name"].startswith("the tie-break chain"))
    return evaluate(cantho_policy, parse_data(tomli_w.dumps(case["inline"]).encode(), cantho_policy, file="units.toml"))


def test_example_golden_html(example_result, golden):
    """The example's page is byte for byte the reviewed golden file."""
    golden.check(GOLDEN / "cum8-2022" / "expected.html", render(example_result, "html"))


def test_cantho_golden_html(cantho_result, golden):
    """The Cần Thơ example (another policy, ten units, a rating cap) is the reviewed golden file."""
    golden.check(GOLDEN / "cantho-2025" / "expected.html", render(cantho_result, "html"))


def test_council_items_golden_html(example_policy, cantho_policy, golden):
    """Units awaiting the council's vote, and units tied at a quota cut, are listed for the council."""
    awaiting = render(_awaiting_vote(example_policy), "html")
    tied = render(_tie_at_cut(cantho_policy), "html")
    golden.check(GOLDEN / "html-council" / "awaiting-vote.html", awaiting)
    golden.check(GOLDEN / "html-council" / "tie-at-cut.html", tied)
    assert ("<li><strong>Cờ thi đua của Bộ Công an</strong>: Cục Công nghệ thông tin, Cục Kế hoạch và "
            "tài chính, Cục Trang bị và kho vận — chờ Hội đồng bỏ phiếu: chưa có kết quả bỏ phiếu</li>") in awaiting
    assert tied.count('<li data-status="undecided">') == 2
    assert 'Không có.' not in tied.split("Nội dung cần Hội đồng")[1].split("</ul>")[0]


def test_example_golden_html_english(example_result, golden):
    """``--lang en``: the example's page in English, byte for byte the reviewed golden file."""
    golden.check(GOLDEN / "cum8-2022" / "expected.en.html", render(example_result, "html", "en"))


def _vietnamese(text: str) -> list[str]:
    """The words of ``text`` with a Vietnamese letter (a letter with a diacritic, or đ)."""
    import unicodedata

    def marked(word: str) -> bool:
        return any(c in "đĐ" or unicodedata.decomposition(c) for c in word if c.isalpha())

    return sorted({w for w in re.findall(r"\w+", text) if marked(w)})


def _policy_names(result, doc_units) -> list[str]:
    """Every text the policy (or the data) names something by: shown as declared, in any language."""
    from thidua_rules.exprtext import names as labels

    policy = result.policy
    found = [policy.name, *(c.name for c in result.clusters), *doc_units,
             *(t.name for t in policy.titles), *(b.name for b in policy.bands), *(g.name for g in policy.groups),
             *(c.name for c in policy.criteria), *(layer.name for layer in policy.layers),
             *labels(policy, "en").values()]
    if policy.people is not None:
        found += [t.name for t in policy.people.titles]
    return sorted(set(found), key=lambda n: (-len(n), n))  # the longest first: a name inside another


@pytest.mark.parametrize("case", ["example", "cantho", "awaiting", "tied"])
def test_english_page_has_no_vietnamese_layout_words(case, example_result, cantho_result, example_policy,
                                                     cantho_policy):
    """The English page, as a reader sees it, has no Vietnamese word but the policy's own names
    (units, titles, bands, criteria, input labels): every heading, column, caption, the chart's
    words, the council's and the footer's come from the English catalogue."""
    import html

    from thidua_rules.messages import catalogue

    result = {"example": lambda: example_result, "cantho": lambda: cantho_result,
              "awaiting": lambda: _awaiting_vote(example_policy), "tied": lambda: _tie_at_cut(cantho_policy)}[case]()
    page = render(result, "html", "en")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n')
    visible = html.unescape(re.sub(r"<[^>]+>", "\n", re.sub(r"<style>.*?</style>", "", page, flags=re.S)))
    for name in _policy_names(result, [u.name for c in result.clusters for u in c.units]):
        visible = visible.replace(name, " ")
    assert _vietnamese(visible) == []
    # and not one layout text of the Vietnamese page (the words of each template the page uses)
    vi, en = catalogue("vi"), catalogue("en")
    for code in sorted(c for c in vi if c.startswith(("html_", "report_")) and vi[c] != en[c]):
        for piece in re.split(r"\{[a-z_]+\}", vi[code]):
            if _vietnamese(piece):
                assert piece.strip(" .:;,()|") not in visible, code


def _english_leftovers(result) -> list[str]:
    """The Vietnamese words of ``result``'s English page as a reader sees it, once the policy's
    names are taken out; a plugin's own texts (its band caps, "(plugin …)") aside."""
    import html

    page = re.sub(r"<style>.*?</style>", "", render(result, "html", "en"), flags=re.S)
    page = re.sub(r"<li>[^<]*\(plugin <code>.*?</li>", "", page)
    visible = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    for name in _policy_names(result, [u.name for c in result.clusters for u in c.units]):
        visible = visible.replace(name, " ")
    return _vietnamese(visible)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_english_page_has_no_vietnamese_layout_words(name):
    """Every shipped example (members, plugins, layers, another policy) in English: no Vietnamese
    word but the policy's names."""
    assert _english_leftovers(_example(name)) == []


def test_the_vietnamese_scan_is_not_blind(example_result):
    """The scan finds Vietnamese words, and finds the Vietnamese page's layout words once the
    policy's names are taken out."""
    import html

    assert set(_vietnamese("Decisions per unit — Quyết định theo đơn vị, 102.00")) == {"Quyết", "định", "đơn", "vị"}
    page = html.unescape(re.sub(r"<[^>]+>", "\n", render(example_result, "html")))
    for name in _policy_names(example_result, [u.name for c in example_result.clusters for u in c.units]):
        page = page.replace(name, " ")
    assert {"Xếp", "hạng", "Hội", "điểm", "thưởng"} <= set(_vietnamese(page))


class _Page(HTMLParser):
    """What a page holds: its tags in order, the attributes naming other resources, the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.data_units: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "xlink:href", "poster", "data") or (
                    name == "style" and "url(" in (value or "")):
                self.links.append((tag, name, value or ""))
            if name == "data-unit":
                self.data_units.append((tag, value or ""))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def test_page_is_self_contained(example_result):
    """No script, no style sheet, image, font or frame from elsewhere: the one file is the page."""
    text = render(example_result, "html")
    page = _parse(text)
    assert page.links == []
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(page.tags)
    assert re.findall(r"https?://[^\s\"'<>]+", text) == ["http://www.w3.org/2000/svg"]  # the SVG namespace only
    assert "@import" not in text and "url(" not in text
    assert text.startswith('<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n')
    assert text.endswith("</html>\n") and "\r" not in text


def test_page_structure(example_result):
    """One ranking row, one chart bar and one decisions article per unit, in ranking order."""
    page = _parse(render(example_result, "html"))
    ranking = [u for tag, u in page.data_units if tag == "tr"]
    bars = [u for tag, u in page.data_units if tag == "g"]
    articles = [u for tag, u in page.data_units if tag == "article"]
    order = ["cuc-cntt", "cuc-khtc", "cuc-tbkv", "vien-khcn", "cuc-vt-cy", "cuc-qlxddt"]
    assert ranking == bars == articles == order


def test_chart_coordinates_are_exact(example_result):
    """The bars of cuc-cntt: 60, 15, 25 and a bonus of 2 on an axis of 0 to 120 over 560 units
    (60 × 560 / 120 = 280), each coordinate rounded half-up to two places."""
    text = render(example_result, "html")
    bar = text[text.index('<g class="bar" data-unit="cuc-cntt">'):]
    bar = bar[:bar.index("</g>")]
    rects = re.findall(r'<rect x="([0-9.]+)" y="[0-9]+" width="([0-9.]+)"', bar)
    assert rects == [("10.00", "280.00"), ("290.00", "70.00"), ("360.00", "116.67"), ("476.67", "9.33")]


def test_hostile_names_are_escaped(example_policy):
    """Names with tags, quotes, entities, control characters and formulas add no element or
    attribute: the page has the tags of the page with plain names, and shows the names as text."""
    plain, hostile = _results(example_policy)
    plain_page, hostile_text = _parse(render(plain, "html")), render(hostile, "html")
    hostile_page = _parse(hostile_text)
    assert hostile_page.tags == plain_page.tags
    assert hostile_page.links == []
    assert "<script>" not in hostile_text and "\x1b" not in hostile_text and "\u202e" not in hostile_text
    shown = "".join(hostile_page.text)
    assert "<script>alert(1)</script> | cột giả |" in shown
    assert "'=HYPERLINK(\"http://evil.example\",\"bấm\")" in shown  # a ranking cell: formula-safe
    assert "Cụm 8\\r\\n## Cụm giả" in shown


@pytest.mark.parametrize(("text", "shown"), [
    ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ("a \"b\" 'c' & d", "a &quot;b&quot; &#x27;c&#x27; &amp; d"),
    ("&amp;", "&amp;amp;"),
    ("x\ny\x1b", "x\\ny\\x1b"),
    ("Cục Công nghệ", "Cục Công nghệ"),
])
def test_html_text(text, shown):
    assert html_text(text) == shown


def test_html_cell_is_formula_safe():
    assert html_cell("=1+1") == "&#x27;=1+1"
    assert html_cell("-3.50") == "-3.50"


@pytest.mark.parametrize("name", ["report.html", "REPORT.HTM"])
def test_format_from_the_extension(tmp_path, name, example_result):
    """``-o report.html`` writes the HTML report without ``--format``."""
    out = tmp_path / name
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "-o", str(out)]) == 0
    assert out.read_bytes() == render(example_result, "html").encode()


def test_lang_en_from_the_command_line(tmp_path, capsys, example_result):
    """``--format html --lang en`` and ``-o report.html --lang en`` write the English page;
    without ``--lang`` the page is Vietnamese."""
    english = render(example_result, "html", "en")
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "--format", "html", "--lang", "en"]) == 0
    assert capsys.readouterr().out == english
    out = tmp_path / "report.html"
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "-o", str(out), "--lang", "en"]) == 0
    assert out.read_bytes() == english.encode()
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "--format", "html"]) == 0
    assert capsys.readouterr().out == render(example_result, "html") != english


def test_format_and_extension_must_agree(tmp_path, capsys):
    """``--format html`` with a ``.md`` name is refused, naming the extension html takes."""
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "--format", "html",
                 "-o", str(tmp_path / "r.md")]) == 2
    assert "give --format markdown or a name ending in .htm" in capsys.readouterr().err


def test_same_bytes_under_another_hash_seed(example_result):
    """A subprocess with another PYTHONHASHSEED writes the same page."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY),
                          str(EXAMPLE_DATA), "--format", "html"],
                         capture_output=True, env=env, check=True)
    assert run.stdout == render(example_result, "html").encode()


def test_several_clusters(example_policy):
    """A data file of three clusters gives three sections, each with its own chart, and no id twice."""
    from .test_cli_robust import generate

    result = evaluate(example_policy, parse_data(generate().make_csv(30), example_policy, file="u.csv", format="csv"))
    text = render(result, "html")
    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    assert re.findall(r'<section class="cluster" id="([^"]+)"', text) == ["cum-1", "cum-2", "cum-3"]
    assert text.count("<svg ") == 3
    assert text.count('<g class="bar"') == sum(len(c.units) for c in result.clusters) == 30
