"""The scoring layers of a unit's criteria as report lines: Vietnamese (Markdown) and English (explain)."""

from __future__ import annotations

from typing import Any

from ..model import Policy
from .escape import md_code, md_text

#: How a layer's result was reached, in the Markdown report's words.
_APPLIED_VI = {
    "given": "áp dụng điểm {score}",
    "mean": "chênh lệch {spread}, không quá {within}: lấy trung bình cộng {score}",
    "min": "chênh lệch {spread}, không quá {within}: lấy điểm thấp nhất {score}",
    "max": "chênh lệch {spread}, không quá {within}: lấy điểm cao nhất {score}",
    "third": "chênh lệch {spread}, quá {within}: lấy điểm của người chấm thứ ba {score}",
    "council": "chênh lệch {spread}, quá {within}: chưa thống nhất, giữ điểm {score}, chờ Hội đồng quyết định",
}
_APPLIED_EN = {
    "given": "score {score}",
    "mean": "spread {spread} within {within}: mean {score}",
    "min": "spread {spread} within {within}: lowest {score}",
    "max": "spread {spread} within {within}: highest {score}",
    "third": "spread {spread} over {within}: the third scorer's {score}",
    "council": "spread {spread} over {within}: undecided, {score} kept, the council decides",
}


def _within(policy: Policy, layer_id: str) -> str:
    layer = next(layer for layer in policy.layers if layer.id == layer_id)
    return "" if layer.reconcile is None else f"{layer.reconcile.within:f}"


def _signed(text: str) -> str:
    return text if text.startswith("-") else f"+{text}"


def layer_lines_vi(policy: Policy, criteria: list[dict[str, Any]]) -> list[str]:
    """Markdown list items: per criterion with layers, each layer from the computed score on."""
    names = {c.id: c.name for c in policy.criteria}
    layer_names = {layer.id: layer.name for layer in policy.layers}
    out = []
    for c in criteria:
        if "layers" not in c:
            continue
        out.append(f"- Các lớp chấm điểm tiêu chí {md_text(names[c['id']])} ({md_code(c['id'])}), điểm cuối cùng {c['score']}:")
        for step in c["layers"]:
            if step["kind"] == "computed":
                out.append(f"  - Điểm tính theo số liệu: {step['score']}")
                continue
            scores = "; ".join(
                (f"{md_code(e['scorer'])}{' (người chấm thứ ba)' if e.get('third') else ''} " if e["scorer"] else "")
                + e["score"] + (f" (lý do: {md_text(e['reason'])})" if e["reason"] else "")
                for e in step["scores"])
            name = md_text(layer_names[step["layer"]])
            if step["kind"] == "claim":
                out.append(f"  - {name}: {scores}; chênh lệch {_signed(step['difference'])} so với điểm đang có "
                           "(chỉ để đối chiếu, không thay đổi điểm)")
            else:
                how = _APPLIED_VI[step["applied"]].format(score=step["score"], spread=step.get("spread"),
                                                          within=_within(policy, step["layer"]))
                out.append(f"  - {name}: {scores} → {how}")
    return out


def layer_lines_en(policy: Policy, criterion: dict[str, Any]) -> list[str]:
    """``explain`` lines under a criterion with layers, one per layer."""
    out = []
    for step in criterion.get("layers", ()):
        if step["kind"] == "computed":
            out.append(f"    computed: {step['score']}")
            continue
        scores = ", ".join(
            (f"{e['scorer']}{' (third)' if e.get('third') else ''} " if e["scorer"] else "")
            + e["score"] + (f" ({e['reason']})" if e["reason"] else "")
            for e in step["scores"])
        if step["kind"] == "claim":
            out.append(f"    {step['layer']} (claim): {scores}; difference {_signed(step['difference'])}, changes nothing")
        else:
            how = _APPLIED_EN[step["applied"]].format(score=step["score"], spread=step.get("spread"),
                                                      within=_within(policy, step["layer"]))
            out.append(f"    {step['layer']}: {scores} -> {how}")
    return out
