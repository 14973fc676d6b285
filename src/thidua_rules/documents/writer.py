"""Filling the .docx templates with docxtpl and writing the files byte-identically and atomically.

A template is the shipped one (``thidua_rules/templates/<name>.docx``) or, with ``--templates
DIR``, the agency's own file of the same name in DIR (a name missing there takes the shipped
one). Rendering is strict: an unknown variable or a bad Jinja tag is one error line naming the
template file and the tag, exit 2, and nothing is written.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import Issue, PolicyError
from .package import fixed_core_properties, fixed_zip

#: Document titles (core properties), by template name.
TITLES: Mapping[str, str] = {
    "bang-tong-hop-diem": "Bảng tổng hợp điểm thi đua",
    "bien-ban-hop": "Biên bản họp bình xét thi đua",
    "to-trinh": "Tờ trình đề nghị khen thưởng",
    "danh-sach-de-nghi": "Danh sách đề nghị khen thưởng",
}
_TAG = re.compile(r"\{[{%].*?[}%]\}")


def _missing_docxtpl(template: str) -> PolicyError:
    return PolicyError([Issue(file=template, message="the Word documents need docxtpl: "
                              "pip install 'thidua_rules[docs]'")])


def template_bytes(name: str, folder: str | Path | None) -> tuple[str, bytes]:
    """The template ``name`` (without ``.docx``): from ``folder`` when it has one, else shipped."""
    if folder is not None:
        path = Path(folder) / f"{name}.docx"
        if path.is_file():
            from ..loader.common import read_bytes

            return str(path), read_bytes(path, str(path), limit=64 * 1024 * 1024)
    shipped = resources.files("thidua_rules").joinpath("templates", f"{name}.docx")
    return f"thidua:templates/{name}.docx", shipped.read_bytes()


def render_docx(name: str, context: Mapping[str, Any], *, folder: str | Path | None,
                when: datetime.datetime) -> bytes:
    """The document ``name`` filled with ``context``: the same inputs always give the same bytes."""
    shown, data = template_bytes(name, folder)
    try:
        import jinja2
        from docxtpl import DocxTemplate  # type: ignore[import-untyped]
    except ImportError:
        raise _missing_docxtpl(shown) from None
    try:
        template = DocxTemplate(io.BytesIO(data))
        template.init_docx()
    except Exception as exc:  # noqa: BLE001 - a file that is not a Word document: one line
        raise PolicyError([Issue(file=shown, message=f"not a Word (.docx) template: {exc}")]) from None
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    try:
        template.render(dict(context), jinja_env=env)
    except jinja2.TemplateError as exc:
        raise PolicyError([Issue(file=shown, message=_template_problem(exc, data))]) from None
    fixed_core_properties(template.docx, title=TITLES.get(name, name), when=when)
    buffer = io.BytesIO()
    template.save(buffer)
    return fixed_zip(buffer.getvalue())


def _template_problem(exc: Any, data: bytes) -> str:
    """``unknown variable 'x' in {{ x.y }}`` / ``bad template tag near {% for %}: …``: one line."""
    import jinja2

    message = " ".join(str(exc.message or exc).split())
    context = list(getattr(exc, "docx_context", ()))
    lineno = getattr(exc, "lineno", None) or 1
    # docxtpl keeps the text of the lines from (lineno - 4) on: the failing one is the 4th, or earlier near the top
    at = min(lineno - 1, 3)
    failing = context[at] if at < len(context) else ""
    near = failing.strip() or " ".join(line.strip() for line in context if line.strip())
    if isinstance(exc, jinja2.UndefinedError):
        match = re.search(r"'([^']+)'(?: is undefined| has no attribute '([^']+)')", message)
        word = (match.group(2) or match.group(1)) if match else ""
        tag = next((t for t in _TAG.findall(_body_text(data)) if word and re.search(rf"\b{re.escape(word)}\b", t)), "")
        where = f" in {tag}" if tag else ""
        return f"unknown variable{where}: {message} (docs/documents.md lists the variables)"
    tags = _TAG.findall(near)
    where = tags[0] if tags else near[:80]
    return f"bad template tag{f' near {where}' if where else ''}: {message}"


def _body_text(data: bytes) -> str:
    """The text of the template's body and its tags, without the XML between their runs."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8", "replace")
    return re.sub(r"<[^>]+>", "", xml)
