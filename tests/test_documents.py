"""The council's Word documents: their text (golden), byte-identical files, and the template errors."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from thidua_rules import evaluate, load_data, load_policy
from thidua_rules.cli import main
from thidua_rules.documents import DOCUMENTS, render_documents
from thidua_rules.documents.text import number

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"
MEETING = ROOT / "examples" / "cum8-2022" / "units-meeting.toml"
UNITS = ROOT / "examples" / "cum8-2022" / "units.toml"
GOLDEN = ROOT / "tests" / "golden"


def docx_text(path: Path) -> str:
    """The document's paragraphs and table rows in body order; a row's cells joined by ' | ', a
    cell's paragraphs by ' / '."""
    doc = Document(str(path))
    lines = []
    for child in doc.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, doc).text)
        elif tag == "tbl":
            for row in Table(child, doc).rows:
                lines.append(" | ".join(" / ".join(p.text for p in cell.paragraphs) for cell in row.cells))
    return "\n".join(lines) + "\n"


def run(args: list[str]) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def meeting_docs(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    assert run(["documents", POLICY, MEETING, "-o", out]) == 0
    return out


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_text_is_golden(name, meeting_docs, golden):
    """Each document of the example with a [meeting] reads back, paragraph by paragraph and cell by cell, as its golden text."""
    golden.check(GOLDEN / "cum8-2022" / "docs" / f"{name}.txt", docx_text(meeting_docs / f"cum8-{name}.docx"))


@pytest.mark.parametrize("name", ["bien-ban-hop", "to-trinh"])
def test_documents_without_a_meeting_leave_dotted_blanks(name, tmp_path, golden):
    """Without [meeting] the minutes and the proposal are written with blanks (…………) to fill by hand."""
    assert run(["documents", POLICY, UNITS, "-o", tmp_path]) == 0
    golden.check(GOLDEN / "cum8-2022" / "docs" / f"no-meeting-{name}.txt", docx_text(tmp_path / f"cum8-{name}.docx"))


def test_members_list_names_individuals(tmp_path, golden):
    """With a members file the list of proposals holds each member proposed, with their unit's name."""
    data = ROOT / "examples" / "cum8-2022" / "units-members.toml"
    members = ROOT / "examples" / "cum8-2022" / "members.csv"
    assert run(["documents", ROOT / "policies" / "cum8-2022-members.toml", data, "--members", members,
                "-o", tmp_path]) == 0
    golden.check(GOLDEN / "cum8-2022-members" / "docs" / "to-trinh.txt", docx_text(tmp_path / "cum8-to-trinh.docx"))
    text = docx_text(tmp_path / "cum8-danh-sach-de-nghi.docx")
    assert "1 | Cán bộ 001 cuc-cntt |  | Cục Công nghệ thông tin | Chiến sĩ thi đua toàn lực lượng Công an nhân dân" in text


def test_score_sheet_of_evaluate_is_the_documents_one(tmp_path, meeting_docs):
    """`evaluate --format docx` writes the same score sheet as `documents`."""
    assert run(["evaluate", POLICY, MEETING, "-o", tmp_path / "x.docx"]) == 0
    assert (tmp_path / "x.docx").read_bytes() == (meeting_docs / "cum8-bang-tong-hop-diem.docx").read_bytes()


def test_same_inputs_give_the_same_bytes(tmp_path, meeting_docs):
    """A second run, in another process with another hash seed, writes byte-identical files."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "thidua_rules", "documents", str(POLICY), str(MEETING), "-o",
                    str(tmp_path)], check=True, env=env, capture_output=True)
    for name in DOCUMENTS:
        assert (tmp_path / f"cum8-{name}.docx").read_bytes() == (meeting_docs / f"cum8-{name}.docx").read_bytes()


def test_zip_members_are_dated_1980_in_sorted_order(meeting_docs):
    """Every zip member carries the fixed date; [Content_Types].xml comes first, the rest sorted."""
    import zipfile

    with zipfile.ZipFile(meeting_docs / "cum8-to-trinh.docx") as archive:
        infos = archive.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    names = [i.filename for i in infos]
    assert names[0] == "[Content_Types].xml" and names[1:] == sorted(names[1:])
    props = Document(str(meeting_docs / "cum8-to-trinh.docx")).core_properties
    assert props.created == datetime.datetime(2022, 12, 20, tzinfo=datetime.UTC)  # the meeting's date, not the clock
    assert props.title == "Tờ trình đề nghị khen thưởng"


def test_shipped_templates_are_what_the_script_builds():
    """scripts/make_templates.py rebuilds the committed templates byte for byte."""
    saved = list(sys.path)
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_templates
    finally:
        sys.path[:] = saved  # the script must leave no trace (version lookups scan sys.path)
    for name in DOCUMENTS:
        shipped = ROOT / "src" / "thidua_rules" / "templates" / f"{name}.docx"
        assert make_templates.template_bytes(name) == shipped.read_bytes(), name


def test_meeting_changes_no_result():
    """The [meeting] facts feed the documents only: ranks, totals and titles are those of units.toml."""
    policy = load_policy(POLICY)
    plain = evaluate(policy, load_data(UNITS, policy))
    met = load_data(MEETING, policy)
    assert met.clusters[0].meeting is not None and load_data(UNITS, policy).clusters[0].meeting is None
    with_meeting = evaluate(policy, met)
    assert [(u.id, u.rank, u.total, u.band, u.proposed) for u in with_meeting.clusters[0].units] == \
        [(u.id, u.rank, u.total, u.band, u.proposed) for u in plain.clusters[0].units]


def _agency_template(folder: Path, name: str, line: str) -> None:
    doc = Document(str(ROOT / "src" / "thidua_rules" / "templates" / f"{name}.docx"))
    doc.add_paragraph(line)
    folder.mkdir(exist_ok=True)
    doc.save(str(folder / f"{name}.docx"))


@pytest.mark.parametrize(("name", "line", "expected"), [
    ("to-trinh", "Ký: {{ signer.nam }}",
     "to-trinh.docx: unknown variable in {{ signer.nam }}: 'dict object' has no attribute 'nam' "
     "(docs/documents.md lists the variables)"),
    ("bien-ban-hop", "{% for x in %}",
     "bien-ban-hop.docx: bad template tag near {% for x in %}: Expected an expression, got 'end of statement block'"),
    ("danh-sach-de-nghi", "{{ khong_co }}",
     "danh-sach-de-nghi.docx: unknown variable in {{ khong_co }}: 'khong_co' is undefined "
     "(docs/documents.md lists the variables)"),
])
def test_a_bad_agency_template_is_one_line(name, line, expected, tmp_path, capsys, monkeypatch):
    """A bad tag or an unknown variable in an agency's template: one line naming the file and the tag, exit 2, nothing written."""
    _agency_template(tmp_path / "tpl", name, line)
    monkeypatch.chdir(tmp_path)
    assert run(["documents", POLICY, MEETING, "-o", "out", "--templates", "tpl"]) == 2
    assert capsys.readouterr().err == f"tpl/{expected}\n"
    assert not (tmp_path / "out").exists()


def test_agency_templates_replace_only_those_given(tmp_path):
    """A template folder holding one file replaces that document; the others are the shipped ones."""
    _agency_template(tmp_path / "tpl", "to-trinh", "Ghi chú của đơn vị: {{ cluster_name }}")
    assert run(["documents", POLICY, MEETING, "-o", tmp_path / "out", "--templates", tmp_path / "tpl"]) == 0
    assert docx_text(tmp_path / "out" / "cum8-to-trinh.docx").endswith(
        "Ghi chú của đơn vị: Cụm thi đua số 8 - Khối các đơn vị trực thuộc Bộ trưởng\n")


def test_output_folder_that_is_a_file_is_refused(tmp_path, capsys):
    """-o naming a file: one line, exit 2."""
    (tmp_path / "f").write_text("x")
    assert run(["documents", POLICY, MEETING, "-o", tmp_path / "f"]) == 2
    assert "give a folder's name" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "places", "text"), [
    (Decimal("102"), 2, "102,00"), (Decimal("90.815"), 2, "90,82"), (Decimal("1234.5"), 1, "1.234,5"),
    (Decimal("-3.5"), 2, "-3,50"), (Decimal("0.5"), None, "0,5"), (14, None, "14"), (Decimal("1234567"), 0, "1.234.567"),
])
def test_numbers_are_written_the_vietnamese_way(value, places, text):
    """Decimal comma, '.' between thousands, rounded half-up."""
    assert number(value, places) == text


def test_render_documents_names_files_by_cluster():
    """render_documents returns <cluster>-<document>.docx for each document."""
    policy = load_policy(POLICY)
    data = load_data(MEETING, policy)
    files = render_documents(policy, data, evaluate(policy, data))
    assert sorted(files) == sorted(f"cum8-{n}.docx" for n in DOCUMENTS)


def test_minutes_list_candidates_awaiting_a_vote(tmp_path):
    """Without ballots the minutes list, per voted title, the candidates awaiting the council's vote."""
    text = UNITS.read_text(encoding="utf-8")
    data = tmp_path / "units.toml"
    data.write_text(text[:text.index("# Ballots")] + text[text.index("# Earlier years"):], encoding="utf-8")
    assert run(["documents", POLICY, data, "-o", tmp_path / "out"]) == 0
    minutes = docx_text(tmp_path / "out" / "cum8-bien-ban-hop.docx")
    assert ("Không có nội dung bỏ phiếu.\nĐề nghị chờ Hội đồng biểu quyết (chưa có kết quả bỏ phiếu):\n"
            "- Cờ thi đua của Bộ Công an (3): Cục Công nghệ thông tin; Cục Kế hoạch và tài chính; "
            "Cục Trang bị và kho vận\nV. KẾT LUẬN\n") in minutes


def test_clusters_each_get_their_documents_and_meeting(tmp_path, capsys):
    """[[clusters]] data: each cluster's [meeting] goes to its own files; a score sheet of several clusters is refused."""
    data = tmp_path / "two.toml"
    data.write_text('''
[[clusters]]
id = "a"
name = "Cụm A"
year = 2022
meeting = { venue = "Phòng họp A", date = "2022-12-01", members = [{ id = "x", name = "Người X", present = true }] }
units = [{ id = "u1", name = "Đơn vị 1" }]

[[clusters]]
id = "b"
name = "Cụm B"
year = 2022
units = [{ id = "u2", name = "Đơn vị 2" }]
''', encoding="utf-8")
    policy = tmp_path / "p.toml"
    policy.write_text('[policy]\nid = "p"\nname = "Chính sách"\nyear = 2022\n', encoding="utf-8")
    assert run(["documents", policy, data, "-o", tmp_path / "out"]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{c}-{n}.docx" for c in "ab" for n in DOCUMENTS)
    assert "tại Phòng họp A." in docx_text(tmp_path / "out" / "a-bien-ban-hop.docx")
    assert "tại …………." in docx_text(tmp_path / "out" / "b-bien-ban-hop.docx")
    capsys.readouterr()
    assert run(["evaluate", policy, data, "-o", tmp_path / "x.docx"]) == 2
    assert capsys.readouterr().err == (f"{data}: the data holds 2 clusters and a score sheet is of one; "
                                       "`thidua documents` writes one per cluster\n")
    assert not (tmp_path / "x.docx").exists()


def test_names_with_markup_and_control_characters_are_kept_as_text(tmp_path):
    """'&', '<' stay text and a control character is shown as its escape: a name cannot break the file."""
    data = tmp_path / "d.json"
    data.write_text('{"cluster": {"id": "c", "name": "Cụm <A> & B", "year": 2022}, '
                    '"units": [{"id": "u", "name": "Đơn vị \\u001b1 </w:t>"}]}', encoding="utf-8")
    policy = tmp_path / "p.toml"
    policy.write_text('[policy]\nid = "p"\nname = "P"\n', encoding="utf-8")
    assert run(["documents", policy, data, "-o", tmp_path / "out"]) == 0
    text = docx_text(tmp_path / "out" / "c-bang-tong-hop-diem.docx")
    assert "1 | Đơn vị \\x1b1 </w:t> | " in text
    assert "Cụm <A> & B\n" in text


def test_a_template_that_is_not_a_docx_is_one_line(tmp_path, capsys):
    """A template file that is not a Word document: one line naming it, exit 2."""
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "to-trinh.docx").write_text("not a zip", encoding="utf-8")
    assert run(["documents", POLICY, MEETING, "-o", tmp_path / "out", "--templates", tmp_path / "tpl"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{tmp_path / 'tpl' / 'to-trinh.docx'}: not a Word (.docx) template: ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_members_position_field_fills_the_position_column(tmp_path):
    """A `position` member field declared in [people.inputs] is the list's 'Chức vụ'."""
    import csv
    import shutil

    for name in ("cum8-2022.toml", "cum8-2022-members.toml"):
        shutil.copy(ROOT / "policies" / name, tmp_path / name)
    shutil.copytree(ROOT / "policies" / "catalogue", tmp_path / "catalogue")
    with (tmp_path / "cum8-2022-members.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[people.inputs]\nposition = { type = "text", required = false, label = "Chức vụ" }\n')
    with (ROOT / "examples" / "cum8-2022" / "members.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0].append("position")
    for row in rows[1:]:
        row.append("Trinh sát viên" if row[1] == "cuc-cntt-001" else "")
    with (tmp_path / "members.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    assert run(["documents", tmp_path / "cum8-2022-members.toml", ROOT / "examples" / "cum8-2022" / "units-members.toml",
                "--members", tmp_path / "members.csv", "-o", tmp_path / "out"]) == 0
    text = docx_text(tmp_path / "out" / "cum8-danh-sach-de-nghi.docx")
    assert "\n1 | Cán bộ 001 cuc-cntt | Trinh sát viên | Cục Công nghệ thông tin | " in text
    assert "\n2 | Cán bộ 002 cuc-cntt |  | Cục Công nghệ thông tin | " in text


def test_score_sheet_shows_the_layers(tmp_path, golden):
    """Bảng tổng hợp of a layered policy: the self-score and assessed score columns are filled
    where given, and each change layer's score and reasons follow the criterion's method."""
    layered = ROOT / "tests" / "golden" / "layers" / "policy.toml"
    assert run(["documents", layered, ROOT / "examples" / "cum8-2022" / "units-layers.toml", "-o", tmp_path]) == 0
    text = docx_text(tmp_path / "cum8-bang-tong-hop-diem.docx")
    assert "| Điểm tự chấm | Điểm thẩm định |" in text
    golden.check(GOLDEN / "layers" / "bang-tong-hop-diem.txt", text)
@pytest.mark.parametrize("name", ["bang-tong-hop-diem", "bien-ban-hop"])
def test_documents_in_english_write_the_engines_phrases_in_english(tmp_path, name, golden):
    """``render_documents(..., lang="en")`` (and ``evaluate --format docx --lang en``): the phrases
    and numbers the engine writes into the templates come from the catalogue's English
    (``doc_*``); the shipped templates' own words stay Vietnamese (an agency gives English
    templates with ``--templates``)."""
    policy = load_policy(POLICY)
    data = load_data(MEETING, policy)
    files = render_documents(policy, data, evaluate(policy, data), lang="en")
    (tmp_path / "doc.docx").write_bytes(files[f"cum8-{name}.docx"])
    text = docx_text(tmp_path / "doc.docx")
    golden.check(GOLDEN / "cum8-2022" / "docs" / f"en-{name}.txt", text)
    if name == "bang-tong-hop-diem":
        assert "By completion rate" in text and "Theo tỷ lệ hoàn thành" not in text and "102.00" in text
        assert run(["evaluate", POLICY, MEETING, "--format", "docx", "--lang", "en", "-o", tmp_path / "s.docx"]) == 0
        assert docx_text(tmp_path / "s.docx") == text
    else:
        assert " | Passed" in text
        assert "Không đạt" not in text.replace("Không đạt danh hiệu", "")


def test_documents_command_in_english(tmp_path):
    """``thidua documents --lang en`` writes the same files as ``render_documents(..., lang="en")``."""
    assert run(["documents", POLICY, MEETING, "-o", tmp_path, "--lang", "en"]) == 0
    policy = load_policy(POLICY)
    data = load_data(MEETING, policy)
    files = render_documents(policy, data, evaluate(policy, data), lang="en")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
    assert all((tmp_path / name).read_bytes() == content for name, content in files.items())
