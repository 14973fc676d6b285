"""Build the shipped .docx templates of ``thidua documents`` (src/thidua_rules/templates/).

Run: ``.venv/bin/python scripts/make_templates.py`` (needs python-docx; the `docs` extra).
The output is byte-identical on every run (fixed core properties, zip rewritten by
``thidua_rules.documents.package.fixed_zip``); tests/test_documents.py checks that the committed
files are what this script writes.

Layout: the administrative document form (Nghị định 30/2020/NĐ-CP, Phụ lục I): A4, margins
top/bottom 2 cm, left 3 cm, right 1.5 cm, Times New Roman 13 pt; the national motto top right
("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc"), the issuing body top
left, the place and date under the motto. The Jinja tags are docxtpl's: ``{{ x }}``,
``{%tr for %}`` for table rows, ``{%p for %}`` / ``{%p if %}`` for paragraphs; the variables are
listed in docs/documents.md.
"""

from __future__ import annotations

import datetime
import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

ROOT = Path(__file__).resolve().parent.parent
try:
    from thidua_rules.documents.package import fixed_core_properties, fixed_zip
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(ROOT / "src"))
    from thidua_rules.documents.package import fixed_core_properties, fixed_zip

OUT = ROOT / "src" / "thidua_rules" / "templates"
FONT = "Times New Roman"
WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
CENTER = WD_ALIGN_PARAGRAPH.CENTER


def new_document(*, landscape: bool = False) -> Document:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    fonts = style.element.rPr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    style.paragraph_format.space_after = Pt(3)
    style.paragraph_format.space_before = Pt(0)
    for name in ("Table Grid",):
        doc.styles[name].font.name = FONT
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    return doc


def para(doc_or_cell, text: str = "", *, bold: bool = False, italic: bool = False, align=None,
         size: float | None = None):
    p = doc_or_cell.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    return p


def cell_text(cell, text: str, *, bold: bool = False, italic: bool = False, align=None, size: float | None = None):
    """Replace the cell's first paragraph by ``text`` (lines split on \\n)."""
    first = True
    for line in text.split("\n"):
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        run = p.add_run(line)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        p.alignment = CENTER if align is None else align


def no_borders(table) -> None:
    props = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    props.append(borders)


def heading_block(doc, number_var: str | None) -> None:
    """Issuing body left, national motto right, place and date under it."""
    table = doc.add_table(rows=1, cols=2)
    no_borders(table)
    left, right = table.rows[0].cells
    cell_text(left, "{{ authority }}", size=13)
    p = left.add_paragraph()
    p.alignment = CENTER
    run = p.add_run("{{ issuer }}")
    run.bold = True
    run.font.size = Pt(13)
    if number_var:
        p = left.add_paragraph()
        p.alignment = CENTER
        p.add_run("Số: {{ " + number_var + " }}")
    cell_text(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13)
    p = right.add_paragraph()
    p.alignment = CENTER
    run = p.add_run("Độc lập - Tự do - Hạnh phúc")
    run.bold = True
    run.font.size = Pt(14)
    p = right.add_paragraph()
    p.alignment = CENTER
    run = p.add_run("{{ date_line }}")
    run.italic = True
    para(doc)


def grid(doc, header: list[str], cells: list[str], loop: str, widths: list[float] | None = None):
    """A table: a bold header row, then one row per item of ``loop`` (docxtpl's ``{%tr for %}``)."""
    table = doc.add_table(rows=4, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell_text(cell, text, bold=True)
    cell_text(table.rows[1].cells[0], "{%tr for " + loop + " %}", align=WD_ALIGN_PARAGRAPH.LEFT)
    for i, (cell, text) in enumerate(zip(table.rows[2].cells, cells, strict=True)):
        cell_text(cell, text, align=WD_ALIGN_PARAGRAPH.LEFT if i == 1 else CENTER)
    cell_text(table.rows[3].cells[0], "{%tr endfor %}", align=WD_ALIGN_PARAGRAPH.LEFT)
    if widths:
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)
    return table


def signatures(doc, left_title: str, left_name: str, right_title: str, right_name: str) -> None:
    para(doc)
    table = doc.add_table(rows=1, cols=2)
    no_borders(table)
    left, right = table.rows[0].cells
    for cell, title, name in ((left, left_title, left_name), (right, right_title, right_name)):
        cell_text(cell, title, bold=True)
        p = cell.add_paragraph()
        p.alignment = CENTER
        run = p.add_run("(Ký, ghi rõ họ tên)")
        run.italic = True
        for _ in range(3):
            cell.add_paragraph()
        p = cell.add_paragraph()
        p.alignment = CENTER
        p.add_run(name).bold = True


def score_sheet() -> Document:
    doc = new_document()
    heading_block(doc, None)
    para(doc, "BẢNG TỔNG HỢP ĐIỂM THI ĐUA NĂM {{ year }}", bold=True, align=CENTER, size=14)
    para(doc, "{{ cluster_name }}", bold=True, align=CENTER)
    para(doc, "(Theo {{ policy_name }})", italic=True, align=CENTER)
    para(doc, "I. TỔNG HỢP KẾT QUẢ", bold=True)
    grid(doc, ["STT", "Đơn vị", "Điểm tiêu chí", "Điểm thưởng", "Điểm trừ", "Tổng điểm", "Xếp hạng", "Xếp loại"],
         ["{{ u.stt }}", "{{ u.name }}", "{{ u.score }}", "{{ u.bonus }}", "{{ u.deduction }}", "{{ u.total }}",
          "{{ u.rank }}", "{{ u.band }}"], "u in summary",
         [1.1, 4.2, 1.8, 1.7, 1.5, 1.8, 1.5, 2.9])
    para(doc)
    para(doc, "II. CHI TIẾT ĐIỂM CỦA TỪNG ĐƠN VỊ", bold=True)
    para(doc, "{%p for u in units %}")
    para(doc, "{{ u.stt }}. {{ u.name }}: tổng điểm {{ u.total }}, xếp hạng {{ u.rank }}, xếp loại {{ u.band }}",
         bold=True)
    grid(doc, ["STT", "Nội dung tiêu chí", "Điểm chuẩn", "Cách tính và số liệu", "Điểm tự chấm",
               "Điểm thẩm định", "Điểm chấm"],
         ["{{ r.stt }}", "{{ r.name }}", "{{ r.points }}",
          "{{ r.method }}{% for n in r.layers %}; {{ n }}{% endfor %}", "{{ r.self }}", "{{ r.assessed }}",
          "{{ r.score }}"], "r in u.rows",
         [1.0, 4.4, 1.6, 5.1, 1.5, 1.5, 1.4])
    para(doc)
    para(doc, "{%p endfor %}")
    signatures(doc, "NGƯỜI LẬP BẢNG", "", "CỤM TRƯỞNG", "")
    return doc


def minutes() -> Document:
    doc = new_document()
    heading_block(doc, "minutes_number")
    para(doc, "BIÊN BẢN", bold=True, align=CENTER, size=14)
    para(doc, "Họp bình xét, suy tôn thi đua, khen thưởng năm {{ year }}", bold=True, align=CENTER)
    para(doc, "{{ cluster_name }}", bold=True, align=CENTER)
    para(doc, "I. THỜI GIAN, ĐỊA ĐIỂM", bold=True)
    para(doc, "Vào hồi {{ start.hour }} giờ {{ start.minute }} phút, ngày {{ day }} tháng {{ month }} năm "
         "{{ meeting_year }}, tại {{ venue }}.")
    para(doc, "II. THÀNH PHẦN", bold=True)
    para(doc, "Chủ trì: {{ chair.name }}{% if chair.position %}, {{ chair.position }}{% endif %}.")
    para(doc, "Thư ký: {{ secretary.name }}{% if secretary.position %}, {{ secretary.position }}{% endif %}.")
    para(doc, "Tổng số thành viên: {{ members_total }}; có mặt: {{ members_present }}; vắng mặt: "
         "{{ members_absent }}.")
    para(doc, "{%p if present %}")
    para(doc, "Thành viên có mặt:")
    grid(doc, ["STT", "Họ và tên", "Chức vụ", "Đơn vị"],
         ["{{ m.stt }}", "{{ m.name }}", "{{ m.position }}", "{{ m.unit }}"], "m in present", [1.1, 4.5, 6.0, 4.9])
    para(doc, "{%p endif %}")
    para(doc, "{%p if absent %}")
    para(doc, "Thành viên vắng mặt:")
    grid(doc, ["STT", "Họ và tên", "Chức vụ", "Đơn vị"],
         ["{{ m.stt }}", "{{ m.name }}", "{{ m.position }}", "{{ m.unit }}"], "m in absent", [1.1, 4.5, 6.0, 4.9])
    para(doc, "{%p endif %}")
    para(doc, "III. NỘI DUNG", bold=True)
    para(doc, "{%p if content %}")
    para(doc, "{{ content }}")
    para(doc, "{%p endif %}")
    para(doc, "1. Kết quả chấm điểm, xếp hạng:")
    grid(doc, ["Xếp hạng", "Đơn vị", "Tổng điểm", "Xếp loại"],
         ["{{ u.stt }}", "{{ u.name }}", "{{ u.total }}", "{{ u.band }}"], "u in ranking", [1.8, 6.5, 2.5, 5.7])
    para(doc, "2. Ý kiến bằng văn bản của thành viên vắng mặt:")
    para(doc, "{%p for w in written %}")
    para(doc, "- {{ w.name }}{% if w.position %} ({{ w.position }}){% endif %}: {{ w.text }}")
    para(doc, "{%p endfor %}")
    para(doc, "{%p if not written %}")
    para(doc, "Không có.")
    para(doc, "{%p endif %}")
    para(doc, "IV. KẾT QUẢ BỎ PHIẾU", bold=True)
    para(doc, "Tỷ lệ phiếu đồng ý tính trên tổng số thành viên; phiếu của thành viên vắng mặt có ý kiến bằng "
         "văn bản được tính.", italic=True)
    para(doc, "{%p for v in votes %}")
    para(doc, "{{ loop.index }}. {{ v.title }}: tổng số thành viên {{ v.members }}{% if v.present %}, có mặt "
         "{{ v.present }}{% endif %}; ngưỡng {{ v.threshold }} %; {{ v.quorum }}.", bold=True)
    grid(doc, ["STT", "Đề nghị", "Phiếu tại họp", "Phiếu bằng văn bản", "Tổng phiếu đồng ý", "Tỷ lệ (%)", "Kết quả"],
         ["{{ c.stt }}", "{{ c.name }}", "{{ c.yes }}", "{{ c.written }}", "{{ c.total_yes }}", "{{ c.share }}",
          "{{ c.decision }}"], "c in v.candidates", [1.1, 5.0, 1.8, 2.0, 2.0, 2.0, 2.6])
    para(doc)
    para(doc, "{%p endfor %}")
    para(doc, "{%p if not votes %}")
    para(doc, "Không có nội dung bỏ phiếu.")
    para(doc, "{%p endif %}")
    para(doc, "{%p if awaiting %}")
    para(doc, "Đề nghị chờ Hội đồng biểu quyết (chưa có kết quả bỏ phiếu):")
    para(doc, "{%p for a in awaiting %}")
    para(doc, "- {{ a.title }} ({{ a.count }}): {{ a.names }}")
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(doc, "V. KẾT LUẬN", bold=True)
    para(doc, "Cụm thống nhất đề nghị khen thưởng như sau:")
    grid(doc, ["STT", "Tên tập thể, cá nhân", "Danh hiệu, hình thức khen thưởng"],
         ["{{ r.stt }}", "{{ r.name }}", "{{ r.title }}"], "r in results", [1.1, 7.5, 7.9])
    para(doc, "Cuộc họp kết thúc vào hồi {{ end.hour }} giờ {{ end.minute }} phút cùng ngày. Biên bản đã được "
         "thông qua trước các thành viên dự họp.")
    signatures(doc, "THƯ KÝ", "{{ secretary.name }}", "CHỦ TRÌ", "{{ chair.name }}")
    return doc


def proposal() -> Document:
    doc = new_document()
    heading_block(doc, "proposal_number")
    para(doc, "TỜ TRÌNH", bold=True, align=CENTER, size=14)
    para(doc, "Về việc đề nghị khen thưởng năm {{ year }}", bold=True, align=CENTER)
    para(doc, "Kính gửi: {{ recipient }}", align=CENTER)
    para(doc, "{%p for b in legal_basis %}")
    para(doc, "Căn cứ {{ b }};", italic=True)
    para(doc, "{%p endfor %}")
    para(doc, "Căn cứ kết quả chấm điểm, bình xét thi đua năm {{ year }} của {{ cluster_name }},", italic=True)
    para(doc, "{{ cluster_name }} kính đề nghị {{ recipient }} xem xét, đề nghị cấp có thẩm quyền khen thưởng "
         "cho {{ collective_total }} tập thể và {{ individual_total }} cá nhân, cụ thể như sau:")
    grid(doc, ["STT", "Danh hiệu, hình thức khen thưởng", "Tập thể", "Cá nhân"],
         ["{{ c.stt }}", "{{ c.title }}", "{{ c.collective }}", "{{ c.individual }}"], "c in counts",
         [1.1, 9.4, 3.0, 3.0])
    para(doc)
    para(doc, "Tiêu chuẩn áp dụng:", bold=True)
    para(doc, "{%p for t in title_basis %}")
    para(doc, "- {{ t.title }}: {{ t.basis }}.")
    para(doc, "{%p endfor %}")
    para(doc, "(Có danh sách và biên bản họp kèm theo.)", italic=True)
    para(doc, "Kính trình {{ recipient }} xem xét, quyết định./.")
    signatures(doc, "", "", "CỤM TRƯỞNG", "{{ signer.name }}")
    return doc


def proposal_list() -> Document:
    doc = new_document()
    heading_block(doc, None)
    para(doc, "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG NĂM {{ year }}", bold=True, align=CENTER, size=14)
    para(doc, "(Kèm theo Tờ trình của {{ cluster_name }})", italic=True, align=CENTER)
    para(doc, "I. TẬP THỂ", bold=True)
    para(doc, "{%p if collectives %}")
    grid(doc, ["STT", "Tên tập thể", "Danh hiệu, hình thức khen thưởng"],
         ["{{ c.stt }}", "{{ c.name }}", "{{ c.titles }}"], "c in collectives", [1.1, 7.5, 7.9])
    para(doc, "{%p endif %}")
    para(doc, "{%p if not collectives %}")
    para(doc, "Không có.")
    para(doc, "{%p endif %}")
    para(doc, "II. CÁ NHÂN", bold=True)
    para(doc, "{%p if individuals %}")
    grid(doc, ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Danh hiệu, hình thức khen thưởng"],
         ["{{ i.stt }}", "{{ i.name }}", "{{ i.position }}", "{{ i.unit }}", "{{ i.titles }}"], "i in individuals",
         [1.1, 4.0, 3.2, 4.0, 4.2])
    para(doc, "{%p endif %}")
    para(doc, "{%p if not individuals %}")
    para(doc, "Không có.")
    para(doc, "{%p endif %}")
    signatures(doc, "NGƯỜI LẬP DANH SÁCH", "", "CỤM TRƯỞNG", "")
    return doc


TEMPLATES = {
    "bang-tong-hop-diem": (score_sheet, "Bảng tổng hợp điểm thi đua"),
    "bien-ban-hop": (minutes, "Biên bản họp bình xét thi đua"),
    "to-trinh": (proposal, "Tờ trình đề nghị khen thưởng"),
    "danh-sach-de-nghi": (proposal_list, "Danh sách đề nghị khen thưởng"),
}


def template_bytes(name: str) -> bytes:
    build, title = TEMPLATES[name]
    doc = build()
    fixed_core_properties(doc, title=title, when=WHEN)
    buffer = io.BytesIO()
    doc.save(buffer)
    return fixed_zip(buffer.getvalue())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        (OUT / f"{name}.docx").write_bytes(template_bytes(name))
        print(f"wrote {(OUT / f'{name}.docx').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
