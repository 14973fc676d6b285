"""Streaming JSON lines: the same bytes as the in-memory path, bounded by cluster, clean failures."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from thidua_rules import evaluate, load_data, render
from thidua_rules.cli import main
from thidua_rules.errors import PolicyError
from thidua_rules.report.jsonlines import LINES_FORMAT
from thidua_rules.stream import evaluate_stream, progress_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import make_csv, make_rows

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"
UNITS = 2000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    (folder / "units.csv").write_bytes(make_csv(UNITS, seed=11))
    with (folder / "units.jsonl").open("w", encoding="utf-8") as handle:
        for row in make_rows(UNITS, seed=11):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return folder


def streamed(policy, path, **kwargs) -> str:
    out = io.StringIO()
    evaluate_stream(policy, path, out, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("name", ["units.csv", "units.jsonl"])
def test_stream_equals_in_memory_jsonl(example_policy, files, name):
    """Streaming a CSV or JSON-lines file gives the bytes of --format jsonl on the loaded data."""
    path = files / name
    expected = render(evaluate(example_policy, load_data(path, example_policy)), "jsonl")
    assert streamed(example_policy, path, display=str(path)) == expected


def test_records_match_the_json_document(example_policy, files):
    """Header first, then per cluster its record and its units in rank order, provenance last."""
    from thidua_rules import build_document

    path = files / "units.csv"
    lines = [json.loads(line) for line in streamed(example_policy, path, display=str(path)).splitlines()]
    doc = build_document(evaluate(example_policy, load_data(path, example_policy)))
    assert lines[0] == {"format": LINES_FORMAT, "record": "header"}
    provenance = lines[-1]
    assert provenance.pop("record") == "provenance"
    assert (provenance.pop("clusters"), provenance.pop("units")) == (len(doc["clusters"]), UNITS)
    assert provenance == doc["provenance"]
    clusters = [r for r in lines[1:-1] if r["record"] == "cluster"]
    units = [r for r in lines[1:-1] if r["record"] == "unit"]
    assert [{k: v for k, v in c.items() if k != "record"} for c in clusters] == doc["clusters"]
    assert [{k: v for k, v in u.items() if k != "record"} for u in units] == doc["units"]


def test_cli_writes_the_file_atomically(files, tmp_path, capsys):
    """`thidua evaluate --format jsonl -o FILE` streams into FILE and leaves no temporary file."""
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(POLICY), str(files / "units.csv"), "--format", "jsonl", "-o", str(out)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    assert out.read_text(encoding="utf-8").splitlines()[0] == json.dumps(
        {"format": LINES_FORMAT, "record": "header"}, separators=(",", ":"))
    assert capsys.readouterr().err == ""  # no progress bar: stderr is not a terminal


def test_toml_data_gives_the_same_records(tmp_path, capsys):
    """TOML data (not streamable) is loaded in memory and written as the same JSON lines."""
    out = tmp_path / "example.jsonl"
    data = ROOT / "examples" / "cum8-2022" / "units.toml"
    assert main(["evaluate", str(POLICY), str(data), "-f", "jsonl", "-o", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 1 + 6 + 1


def _unsorted_csv(tmp_path: Path) -> Path:
    lines = make_csv(40, seed=3).decode("utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    first = rows[0].split(",")[0]
    moved = [r for r in rows if r.startswith(first + ",")]
    rest = [r for r in rows if not r.startswith(first + ",")]
    path = tmp_path / "unsorted.csv"
    path.write_text("\n".join([header, *rest, *moved]) + "\n", encoding="utf-8")
    return path


def test_unsorted_input_is_an_error_and_writes_nothing(tmp_path, capsys):
    """Clusters out of order: one error line telling the user to sort, exit 2, no output file."""
    data = _unsorted_csv(tmp_path)
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(POLICY), str(data), "-f", "jsonl", "-o", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "sorted by cluster id" in err[0] and err[0].startswith(f"{data}:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unsorted.csv"]


def test_data_errors_are_the_in_memory_errors(example_policy, tmp_path, capsys):
    """Every bad row is reported, with the lines the in-memory loader gives, and nothing is written."""
    text = make_csv(300, seed=5).decode("utf-8").splitlines()
    header = text[0].split(",")
    col = header.index("members")
    bad = []
    for i, line in enumerate(text):
        cells = line.split(",")
        if i in (3, 150):
            cells[col] = "0"            # below min = 1
        if i == 200:
            cells[0] = ""               # no cluster
        if i == 250:
            cells[header.index("party_rating")] = "xuat_xac"  # not an allowed value
        bad.append(",".join(cells))
    data = tmp_path / "bad.csv"
    data.write_text("\n".join(bad) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError) as in_memory:
        load_data(data, example_policy)
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(POLICY), str(data), "-f", "jsonl", "-o", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == in_memory.value.lines()
    assert len(in_memory.value.lines()) == 4
    assert not out.exists()


def test_duplicate_unit_across_clusters(example_policy, tmp_path):
    """A unit id used in two clusters is reported as the in-memory loader reports it."""
    lines = make_csv(30, seed=9).decode("utf-8").splitlines()
    last = lines[-1].split(",")
    last[1] = lines[1].split(",")[1]   # the id of the first unit, in the last cluster
    data = tmp_path / "dup.csv"
    data.write_text("\n".join([*lines[:-1], ",".join(last)]) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError) as in_memory:
        load_data(data, example_policy)
    with pytest.raises(PolicyError) as stream:
        streamed(example_policy, data, display=str(data))
    assert stream.value.lines() == in_memory.value.lines()
    assert "duplicate unit id" in stream.value.lines()[0]


def test_csv_syntax_error_names_the_line(example_policy, tmp_path):
    """A row with more cells than the header is one error with its line."""
    lines = make_csv(20, seed=1).decode("utf-8").splitlines()
    lines[5] += ",extra"
    data = tmp_path / "syntax.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        streamed(example_policy, data, display="syntax.csv")
    assert exc.value.lines() == ["syntax.csv:6: more cells than header columns"]


def test_empty_file_gives_header_and_provenance(example_policy, tmp_path):
    """A CSV with only its header evaluates to no clusters, like the in-memory path."""
    data = tmp_path / "empty.csv"
    data.write_text(make_csv(1).decode("utf-8").splitlines()[0] + "\n", encoding="utf-8")
    expected = render(evaluate(example_policy, load_data(data, example_policy)), "jsonl")
    assert streamed(example_policy, data) == expected


def test_progress_only_on_a_terminal():
    """No progress display when stderr is not a terminal; one when it is."""
    assert progress_for(io.StringIO()) is None

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = progress_for(terminal)(1000)
    bar.last = 0.0
    bar.update(10, 2, 500)
    bar.close()
    assert "10 units, 2 clusters" in terminal.getvalue() and "50.0%" in terminal.getvalue()


def test_jobs_needs_jsonl(capsys):
    """--jobs with another output format is a user error, not silently ignored."""
    data = ROOT / "examples" / "cum8-2022" / "units.toml"
    assert main(["evaluate", str(POLICY), str(data), "--jobs", "2"]) == 2
    assert "--jobs needs --format jsonl" in capsys.readouterr().err
