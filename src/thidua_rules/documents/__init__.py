"""The council's Word documents (``thidua documents``), filled from templates an agency can edit.

Per cluster: the score sheet (bảng tổng hợp điểm thi đua), the minutes of the meeting (biên bản
họp), the proposal (tờ trình đề nghị khen thưởng) and the list of proposals (danh sách đề nghị
khen thưởng); see docs/documents.md. Needs the ``docs`` extra (docxtpl).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from ..engine import Result
from ..errors import Issue, PolicyError
from ..model import Cluster, Dataset, Policy
from .facts import DOCUMENTS, build_contexts
from .writer import render_docx

__all__ = ["DOCUMENTS", "document_date", "render_documents", "render_score_sheet", "write_documents"]


def document_date(cluster: Cluster) -> datetime.datetime:
    """The date the files carry (core properties): the meeting's, else 31 December of the
    cluster's year; never the clock, so a file depends on its inputs only."""
    if cluster.meeting is not None and cluster.meeting.date:
        day = datetime.date.fromisoformat(cluster.meeting.date)
    else:
        day = datetime.date(cluster.year, 12, 31)
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def render_documents(policy: Policy, data: Dataset, result: Result, *,
                     templates: str | Path | None = None, lang: str = "vi") -> dict[str, bytes]:
    """File name → bytes of every document of every cluster: ``<cluster id>-<document>.docx``;
    the engine's phrases and numbers in ``lang`` (the templates' own words are the templates')."""
    if templates is not None and not Path(templates).is_dir():
        raise PolicyError([Issue(file=str(templates), message="--templates expects a folder holding the "
                                 "agency's .docx templates (bang-tong-hop-diem.docx, bien-ban-hop.docx, "
                                 "to-trinh.docx, danh-sach-de-nghi.docx)")])
    contexts = build_contexts(policy, data, result, lang)
    clusters = {c.id: c for c in data.clusters}
    files: dict[str, bytes] = {}
    for cluster_id in sorted(contexts):
        when = document_date(clusters[cluster_id])
        for name in DOCUMENTS:
            files[f"{cluster_id}-{name}.docx"] = render_docx(name, contexts[cluster_id][name],
                                                             folder=templates, when=when)
    return files


def render_score_sheet(policy: Policy, data: Dataset, result: Result, *, shown: str,
                       templates: str | Path | None = None, lang: str = "vi") -> bytes:
    """The score sheet of the data's one cluster (``thidua evaluate --format docx``)."""
    if len(data.clusters) != 1:
        raise PolicyError([Issue(file=shown, message=f"the data holds {len(data.clusters)} clusters and a "
                                 "score sheet is of one; `thidua documents` writes one per cluster")])
    cluster = data.clusters[0]
    context = build_contexts(policy, data, result, lang)[cluster.id]["bang-tong-hop-diem"]
    return render_docx("bang-tong-hop-diem", context, folder=templates, when=document_date(cluster))


def write_documents(folder: str | Path, files: dict[str, bytes]) -> list[Path]:
    """Write each file into ``folder`` (made if missing) atomically; returns the paths written."""
    from ..report.writers import atomic_output

    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise PolicyError([Issue(file=str(folder), message="-o names a file; `thidua documents` writes "
                                 "a folder of documents: give a folder's name")])
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(files):
        with atomic_output(target / name, binary=True) as handle:
            handle.write(files[name])
        written.append(target / name)
    return written
