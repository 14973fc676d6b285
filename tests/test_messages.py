"""The message catalogue: every code in both languages, the English texts equal to the result's
reasons, Vietnamese numbers, the Markdown report free of English engine text and of input ids."""

from __future__ import annotations

import json
import pickle
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from thidua_rules import (
    Reason,
    TitleCheckSpec,
    evaluate,
    format_number,
    hookimpl,
    load_data,
    load_policy,
    render,
    render_message,
)
from thidua_rules.messages import LANGUAGES, catalogue, reason_code
from thidua_rules.testing import evaluate_inline

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"

#: The shipped examples: policy, data, members file.
EXAMPLES = {
    "cum8-2022": ("policies/cum8-2022.toml", "examples/cum8-2022/units.toml", None),
    "bca-cum8": ("policies/bca-cum8.toml", "examples/cum8-2022/units.toml", None),
    "cum8-2022-members": ("policies/cum8-2022-members.toml", "examples/cum8-2022/units-members.toml",
                          "examples/cum8-2022/members.csv"),
    "cand-cum5-2023": ("policies/cand-cum5-2023.toml", "examples/cand-cum5-2023/units.toml", None),
    "cantho-dan-van": ("policies/cantho-dan-van.toml", "examples/cantho-2025/units.toml", None),
    "research-khcn-2023": ("policies/research-khcn-2023.toml", "examples/research-khcn-2023/units.toml", None),
}

#: English words of the engine's own texts (reasons, statuses, report phrases) that must not
#: appear in the Vietnamese report.
ENGLISH = {"is", "false", "true", "does", "not", "win", "this", "year", "left", "place", "of", "votes",
           "below", "the", "awaits", "council", "units", "share", "rank", "when", "requires", "and",
           "or", "in", "holds", "no", "ballot", "recorded", "discipline", "runs", "deferred", "points",
           "raw", "capped", "passed", "failed", "proposed", "held", "quota", "leader", "deputy",
           "rotation", "unit", "total", "band", "score", "criteria"}
#: ASCII words (ids included: ``members_advanced``), outside code spans (where the report shows
#: unit and policy ids on purpose) and outside plugins' own texts (``(plugin x): …`` lines).
_WORD = re.compile(r"(?<![\w.-])[A-Za-z_][A-Za-z0-9_]*(?![\w-])")


def _result(name):
    policy_file, data_file, members = EXAMPLES[name]
    policy = load_policy(ROOT / policy_file)
    data = load_data(ROOT / data_file, policy, members=None if members is None else ROOT / members)
    return evaluate(policy, data)


def _codes():
    return sorted(set(catalogue("en")) | set(catalogue("vi")))


@pytest.mark.parametrize("code", _codes())
def test_every_code_has_both_languages(code):
    """Each code has a non-empty text in English and in Vietnamese, with the same fields."""
    texts = {lang: catalogue(lang).get(code) for lang in LANGUAGES}
    assert all(texts.values()), texts
    fields = {lang: sorted(set(re.findall(r"\{([a-z_]+)\}", t or ""))) for lang, t in texts.items()}
    # Vietnamese may say more (the vote's needed count) but never needs a field English lacks
    # unless the engine gives it: the vote's ``needed`` and the leader's unit are given.
    assert set(fields["en"]) <= set(fields["vi"]) | {"titles"}, fields


def _reasons(value):
    """Every object with a ``code`` in a result document."""
    if isinstance(value, dict):
        if "code" in value and "reason" in value:
            yield value
        for v in value.values():
            yield from _reasons(v)
    elif isinstance(value, list):
        for v in value:
            yield from _reasons(v)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_english_texts_are_the_results_reasons(name):
    """Every reason of every shipped example is the English rendering of its code and params
    (an empty reason: a passed check), and its code has both languages."""
    from thidua_rules.messages import fill, plugin_messages

    result = _result(name)
    doc = json.loads(render(result, "json"))
    found = list(_reasons(doc))
    assert found
    for item in found:
        if "." in item["code"]:  # a plugin's code: its texts from the plugin, in both languages
            english = plugin_messages(result.policy, "en")
            assert item["code"] in english and item["code"] in plugin_messages(result.policy, "vi"), item
            assert fill(english[item["code"]], item["params"], "en") == item["reason"], item
            continue
        assert item["code"] in catalogue("vi") and item["code"] in catalogue("en"), item
        if item["reason"]:
            assert render_message(item["code"], item["params"], "en") == item["reason"], item


def test_golden_json_gains_code_and_params_only():
    """The golden JSON's reasons keep their text; each has a code beside it."""
    doc = json.loads((GOLDEN / "cum8-2022" / "expected.json").read_text("utf-8"))
    vote = next(c for u in doc["units"] if u["id"] == "cuc-tbkv" for t in u["explanation"]["titles"]
                if t["id"] == "co_thi_dua_bca" for c in t["checks"] if c["check"] == "votes")
    assert vote["reason"] == "4 of 6 votes, below 0.8 × 6"
    assert vote["code"] == "vote_below_threshold"
    assert vote["params"] == {"yes": 4, "voters": 6, "share": "0.8", "needed": "4.8"}


def test_vote_reason_in_vietnamese_cites_the_decree():
    """The vote threshold's Vietnamese text gives the count needed and its legal basis
    (ND98 Art. 30 k7: the share is of all council members)."""
    text = render_message("vote_below_threshold", {"yes": 4, "voters": 6, "share": "0.8", "needed": "4.8"})
    assert text == ("4/6 phiếu đồng ý, dưới mức 0,8 × 6 = 4,8 phiếu (tỷ lệ tính trên tổng số thành viên "
                    "Hội đồng, Nghị định 98/2023/NĐ-CP Điều 30 khoản 7)")


@pytest.mark.parametrize(("value", "places", "lang", "expected"), [
    (Decimal("102"), 2, "vi", "102,00"),
    (Decimal("1234.5"), 1, "vi", "1.234,5"),
    (Decimal("1234.5"), 1, "en", "1234.5"),
    (Decimal("2.5"), 0, "vi", "3"),          # half-up, the engine's rounding (Babel's is half-even)
    (Decimal("0.125"), 2, "vi", "0,13"),
    (Decimal("-0.5"), 0, "vi", "-1"),
    (Decimal("123456789012345.12345678901234567890"), 20, "vi",
     "123.456.789.012.345,12345678901234567890"),  # 35 digits, exact (Babel under 28 digits is not)
    (7, 0, "vi", "7"),
])
def test_format_number(value, places, lang, expected):
    """Numbers are rounded half-up to the places asked and written as the language writes them."""
    assert format_number(value, places, lang) == expected


def test_reason_is_the_english_text_and_survives_pickling():
    """A Reason compares equal to its English text and keeps code and params across processes."""
    reason = Reason("requires_not_won", {"title": "co"})
    assert reason == "does not win 'co' this year"
    back = pickle.loads(pickle.dumps(reason))
    assert (type(back), back, back.code, dict(back.params)) == (Reason, reason, "requires_not_won", {"title": "co"})
    assert reason_code("plain text") == ("plugin_text", {"text": "plain text"})


def _scan(text: str, input_ids: set[str]) -> list[str]:
    lines = [line for line in text.splitlines() if "(plugin " not in line]  # plugins' own texts
    body = re.sub(r"`[^`]*`", "", "\n".join(lines))
    return sorted({w for w in _WORD.findall(body) if w.lower() in ENGLISH or w in input_ids})


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_vietnamese_markdown_has_no_english_engine_text_and_no_input_ids(name):
    """The Vietnamese report of every shipped example shows no English engine word and no input
    id: labels, names and Vietnamese words instead."""
    result = _result(name)
    text = render(result, "markdown")
    assert "Giải trình theo đơn vị" in text
    assert _scan(text, {f.id for f in result.policy.inputs}) == []


def _html_visible(page: str) -> str:
    """The text a reader of the HTML page sees: no style sheet, no tags, entities decoded;
    ``<code>`` spans (unit and policy ids shown on purpose) as Markdown code spans."""
    import html

    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<code>(.*?)</code>", lambda m: "`" + m.group(1) + "`", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _docx_text(data: bytes) -> str:
    """A Word document's paragraphs and table cells, read back with python-docx."""
    import io

    from docx import Document

    document = Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    lines += [" | ".join(c.text for c in row.cells) for table in document.tables for row in table.rows]
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_vietnamese_html_has_no_english_engine_text_and_no_input_ids(name):
    """The HTML report of every shipped example, as a reader sees it, shows no English engine
    word and no input id (a criterion's notes are its working with the inputs' labels)."""
    result = _result(name)
    text = _html_visible(render(result, "html"))
    assert "Quyết định theo đơn vị" in text
    assert _scan(text, {f.id for f in result.policy.inputs}) == []


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_vietnamese_documents_have_no_english_engine_text_and_no_input_ids(name):
    """Each Word document of every shipped example, read back with python-docx, shows no English
    engine word and no input id."""
    pytest.importorskip("docxtpl")
    from thidua_rules.documents import render_documents

    policy_file, data_file, members = EXAMPLES[name]
    policy = load_policy(ROOT / policy_file)
    data = load_data(ROOT / data_file, policy, members=None if members is None else ROOT / members)
    files = render_documents(policy, data, evaluate(policy, data))
    assert len(files) == 4
    found = {file: _scan(_docx_text(blob), {f.id for f in policy.inputs}) for file, blob in sorted(files.items())}
    assert found == {file: [] for file in files}


def test_the_html_scan_sees_the_notes_not_the_markup():
    """The HTML scan reads the visible text (an input id in a cell is caught), not the tags or
    the style sheet, and leaves ``<code>`` ids alone."""
    page = ('<style>td.num { text-align: right; }</style><table class="ranking"><tr><td>'
            "targets_done = 5</td><td><code>cuc-cntt</code></td></tr></table>")
    assert _scan(_html_visible(page), {"targets_done"}) == ["targets_done"]


def test_the_scan_finds_what_it_looks_for():
    """The scan is not blind: the old report's lines are caught."""
    old = "- Cờ: không đạt — when: 'rank == 1' is false (rank = 2)\n| x | targets_assigned = 14 |"
    assert _scan(old, {"targets_assigned"}) == ["false", "is", "rank", "targets_assigned", "when"]


def test_english_markdown_golden(golden):
    """``--lang en`` gives the English report, byte for byte the reviewed golden file."""
    golden.check(GOLDEN / "cum8-2022" / "expected.en.md", render(_result("cum8-2022"), "markdown", "en"))


def test_criterion_working_in_the_report():
    """Each criterion's arithmetic is shown as a reader checks it, at the policy precision."""
    text = render(_result("cum8-2022"), "markdown")
    assert "| Hoàn thành chỉ tiêu Bộ giao | 35,00 | 31,82 | 35 × 10 / 11 ≈ 31,82 (" in text
    assert "15 × 112 / (120 × 0,9) ≈ 15,56; giới hạn trong \\[0; 15,00\\]: 15,00" in text
    assert "15.5555" not in text and "15,5555" not in text


POLICY = """\
[policy]
id = "t"
name = "Thử"
year = 2023
plugins = ["fake"]

[inputs]
done = { type = "integer", min = 0, label = "Việc hoàn thành" }

[[criteria]]
id = "c1"
name = "Việc"
points = 10
method = "formula"
formula = "done"

[[bands]]
id = "dat"
name = "Đạt"
min = 0

[[titles]]
id = "tien_tien"
name = "Tiên tiến"
min_done = 8
"""

DATA = """\
[cluster]
id = "c"
name = "C"
year = 2023

[[units]]
id = "a"
name = "A"
done = 9

[[units]]
id = "b"
name = "B"
done = 7
"""


class Structured:
    """A plugin whose title check gives a structured reason with its own messages."""

    @hookimpl
    def register_title_checks(self, register):
        def compile_min_done(table, ctx):
            if "min_done" not in table:
                return None
            floor = table["min_done"]

            def run(view):
                done = view.env["done"]
                return done >= floor, Reason("fake.done_below", {"done": done, "floor": floor}), {}
            return run

        register(TitleCheckSpec(name="min_done", stage=35, keys={"min_done": "integer"}, compile=compile_min_done,
                                messages={"en": {"fake.done_below": "{done} done, below {floor}"},
                                          "vi": {"fake.done_below": "hoàn thành {done} việc, dưới mức {floor}"}}))


def test_plugin_reason_takes_its_texts_from_the_plugins_messages():
    """A plugin's Reason gets its English text (the result's reason) and its Vietnamese text
    (the report's) from the messages registered with its check."""
    doc = evaluate_inline(POLICY, DATA, [("fake", Structured())], format="document")
    check = next(u for u in doc["units"] if u["id"] == "b")["explanation"]["titles"][0]["checks"][0]
    assert check == {"check": "min_done", "passed": False, "plugin": "fake", "reason": "7 done, below 8",
                     "code": "fake.done_below", "params": {"done": "7", "floor": 8}, "seen": {}}
    text = evaluate_inline(POLICY, DATA, [("fake", Structured())], format="markdown")
    assert "- Tiên tiến: không đạt — hoàn thành 7 việc, dưới mức 8" in text


def test_plugin_messages_must_be_texts_by_language():
    """Messages in an unknown language are one error naming the plugin's check."""
    from thidua_rules.testing import error_lines

    class Bad(Structured):
        @hookimpl
        def register_title_checks(self, register):
            register(TitleCheckSpec(name="min_done", stage=35, keys={"min_done": "integer"},
                                    compile=lambda table, ctx: None, messages={"fr": {}}))

    lines = error_lines(POLICY, DATA, [("fake", Bad())])
    assert len(lines) == 1 and "title check 'min_done': messages has the language" in lines[0]


def test_docs_list_every_code():
    """docs/messages.md has a row for every code of the catalogue."""
    text = (ROOT / "docs" / "messages.md").read_text("utf-8")
    assert [c for c in _codes() if f"| `{c}` |" not in text] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_plain_reader_and_babels_agree(lang):
    """The engine's Babel-free reader of the package's .po files gives Babel's catalogue."""
    from thidua_rules.messages import po_path, read_babel_po, read_plain_po

    assert read_plain_po(po_path(lang)) == read_babel_po(po_path(lang), lang)


@pytest.mark.parametrize("value", ["0", "-0.00", "102.005", "123456789012345.12345678901234567890", "-1234.5"])
def test_english_numbers_are_babels(value):
    """English numbers, written without Babel, are what Babel's pattern writes."""
    from babel.numbers import format_decimal

    from thidua_rules.decimals import engine_context

    for places in (0, 2, 20):
        with engine_context():
            exact = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
            expected = format_decimal(exact, format="0" + ("." + "0" * places if places else ""), locale="en")
        assert format_number(Decimal(value), places, "en") == expected
