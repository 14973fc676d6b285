"""A Vietnamese-labelled Markdown report: ranking, proposals per title, leadership, council items."""

from __future__ import annotations

from typing import Any

from ..engine import Result
from ..leadership import NOT_IN_ROTATION
from .escape import formula_safe, md_cell, md_code, md_text

STATUS_VI = {
    "excluded": "không xét (đang trong thời hạn kỷ luật)",
    "deferred": "hoãn xét",
    "proposed": "đề nghị",
    "held": "đạt (đề nghị danh hiệu cao hơn)",
    "failed": "không đạt",
    "over_quota": "đạt điều kiện nhưng ngoài chỉ tiêu",
    "undecided": "đồng hạng tại ngưỡng chỉ tiêu, chờ Hội đồng quyết định",
    "awaiting_vote": "đủ điều kiện xét, chờ Hội đồng bỏ phiếu",
    "awaiting_opinion": "đủ điều kiện xét, chờ ý kiến bằng văn bản của đơn vị cũ (cán bộ chuyển công tác)",
}


def render_markdown(doc: dict[str, Any], result: Result) -> str:
    policy = result.policy
    title_name = {t.id: t.name for t in policy.titles}
    person_title_name = {t.id: t.name for t in policy.people.titles} if policy.people is not None else {}
    band_name = {b.id: b.name for b in policy.bands}
    criterion_name = {c.id: c.name for c in policy.criteria}
    units = {u["id"]: u for u in doc["units"]}
    unit_name = {u["id"]: u["name"] for u in doc["units"]}

    def who(unit_id: str | None) -> str:
        return "—" if unit_id is None else f"{md_text(unit_name.get(unit_id, unit_id))} ({md_code(unit_id)})"

    out = ["# Kết quả chấm điểm, xếp hạng và đề nghị khen thưởng", "",
           f"**{md_text(policy.name)}** ({md_code(policy.id)})", ""]
    for cluster in doc["clusters"]:
        out += [f"## {md_text(cluster['name'])} — năm {cluster['year']}", "",
                "### Bảng xếp hạng", "",
                "| Hạng | Đơn vị | Tổng điểm | Xếp loại | Đề nghị |",
                "|---:|---|---:|---|---|"]
        for unit_id in cluster["ranking"]:
            u = units[unit_id]
            rank = f"{u['rank']} (đồng hạng)" if u["tied"] else str(u["rank"])
            proposed = "; ".join(title_name[t] for t in u["proposed"]) or "—"
            band = band_name.get(u["band"], "—") if u["band"] else "—"
            out.append(f"| {rank} | {md_cell(u['name'])} | {md_cell(u['total'])} | {md_cell(band)} | {md_cell(proposed)} |")
        out += ["", "### Đề nghị danh hiệu thi đua, hình thức khen thưởng", ""]
        for title in policy.titles:
            names = [unit_name[i] for i in cluster["ranking"] if title.id in units[i]["proposed"]]
            out.append(f"- **{md_text(title.name)}**: {', '.join(map(md_text, names)) if names else 'không có đơn vị'}")
        lead = cluster["leadership"]
        if lead:
            out += ["", f"### Cụm trưởng, cụm phó năm {lead['year']}", "",
                    f"- Cụm trưởng: {who(lead['leader'])}",
                    f"- Cụm phó: {who(lead['deputy'])}",
                    f"- Căn cứ: {_leadership_vi(lead)}"]
        out += ["", "### Nội dung cần Hội đồng Thi đua – Khen thưởng quyết định", ""]
        if cluster["council"]:
            for item in cluster["council"]:
                if item["kind"] == "deferred":
                    which = ", ".join(title_name.get(t, t) for t in item["title"].split(",") if t) or "mọi danh hiệu"
                    out.append(f"- **Hoãn xét** ({md_text(which)}): {', '.join(who(u) for u in item['units'])} — {md_text(item['reason'])}")
                else:
                    name = title_name.get(item["title"]) or person_title_name.get(item["title"], item["title"])
                    out.append(f"- **{md_text(name)}**: "
                               f"{', '.join(who(u) for u in item['units'])} — {md_text(item['reason'])}")
        else:
            out.append("Không có.")
        out += _people_vi(result, cluster["id"], unit_name)
        out += ["", "### Giải trình theo đơn vị", ""]
        for unit_id in cluster["ranking"]:
            u = units[unit_id]
            ex = u["explanation"]
            out += [f"#### {u['rank']}. {md_text(u['name'])} — {u['total']} điểm", "",
                    "| Tiêu chí | Điểm chuẩn | Điểm | Ghi chú |", "|---|---:|---:|---|"]
            for c in ex["criteria"]:
                notes = ", ".join(md_text(f"{k} = {v}") for k, v in c["inputs"].items())
                if c["gated"]:
                    notes += "; không đạt điều kiện, 0 điểm"
                if c["capped"]:
                    notes += f"; chưa làm tròn {c['raw']}, giới hạn trong [0, {c['points']}]"
                out.append(f"| {md_cell(criterion_name[c['id']])} | {md_cell(c['points'])} | {md_cell(c['score'])} | {formula_safe(notes)} |")
            out.append("")
            out.append(f"- Điểm các tiêu chí: {ex['score']}; điểm thưởng: {ex['bonus']['applied']}; "
                       f"điểm trừ: {ex['deduction']['applied']}; tổng: {u['total']}")
            band = band_name.get(u["band"], "—") if u["band"] else "không xếp loại"
            out.append(f"- Xếp loại: {md_text(band)}")
            for cap in ex["band"].get("caps", []):
                out.append(f"  - Giới hạn xếp loại (plugin {md_code(cap['plugin'])}): {md_text(cap['reason'])}")
            for d in ex.get("derived", []):
                out.append(f"- {md_code(d['input'])} = {md_text(str(d['value']))} (tính bởi plugin {md_code(d['plugin'])})")
            for name, m in ex.get("members", {}).items():
                out.append(f"- {md_code(name)} = {md_text(str(m['value']))}, đếm từ hồ sơ cán bộ ({len(m['members'])} người)")
            above, below = ex["ranking"]["above"], ex["ranking"]["below"]
            if above:
                out.append(f"- So với {md_code(above['unit'])} (xếp trên): {_separation_vi(above)}")
            if below:
                out.append(f"- So với {md_code(below['unit'])} (xếp dưới): {_separation_vi(below)}")
            for t in ex["titles"]:
                line = f"- {md_text(title_name[t['id']])}: {STATUS_VI[t['status']]}"
                failed = next((c for c in t["checks"] if not c["passed"]), None)
                if failed:
                    line += f" — {md_text(failed['check'])}: {md_text(failed['reason'])}"
                    if failed["seen"]:
                        line += f" ({md_text(', '.join(f'{k} = {_show(v)}' for k, v in failed['seen'].items()))})"
                if "quota" in t and t["status"] != "failed":
                    line += f" (thứ tự {t['quota']['place']} / chỉ tiêu {t['quota']['limit']})"
                out.append(line)
            out.append("")
    prov = doc["provenance"]
    out += ["## Nguồn gốc kết quả", "",
            f"- Phần mềm: thidua_rules {md_text(prov['engine_version'])}",
            f"- Bảng điểm: {md_code(prov['policy']['id'])}, SHA-256 `{prov['policy']['sha256']}`",
            f"- Dữ liệu: SHA-256 `{prov['data']['sha256']}`"]
    for plugin in prov["plugins"]:
        out.append(f"- Plugin: {md_code(plugin['name'])} ({md_text(plugin['distribution'])} {md_text(plugin['version'])}): "
                   f"{md_text(', '.join(plugin['hooks']))}")
    return "\n".join(out) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


#: Up to this many names are listed under a person title; beyond it the report gives the count.
NAMES_LISTED = 30


def _people_vi(result: Result, cluster_id: str, unit_name: dict[str, str]) -> list[str]:
    """Individual titles proposed in the cluster: counts per unit, and the names where few."""
    people_policy = result.policy.people
    cluster = next(c for c in result.clusters if c.id == cluster_id)
    if people_policy is None or not cluster.people:
        return []
    titles = people_policy.titles
    out = ["", "### Danh hiệu thi đua, khen thưởng cá nhân", "",
           "Số cá nhân được đề nghị (trên mỗi thang danh hiệu, chỉ tính danh hiệu cao nhất đạt được).", "",
           "| Đơn vị | " + " | ".join(md_cell(t.name) for t in titles) + " |",
           "|---|" + "---:|" * len(titles)]
    by_unit: dict[str, dict[str, int]] = {}
    for person in cluster.people:
        counts = by_unit.setdefault(person.person.unit, {})
        for title_id in person.proposed:
            counts[title_id] = counts.get(title_id, 0) + 1
    for unit in cluster.units:
        counts = by_unit.get(unit.id, {})
        out.append(f"| {md_cell(unit_name[unit.id])} | " + " | ".join(str(counts.get(t.id, 0)) for t in titles) + " |")
    out.append("")
    for title in titles:
        names = [f"{md_text(p.person.name)} ({md_code(p.person.id)})" for p in cluster.people if title.id in p.proposed]
        shown = ", ".join(names) if len(names) <= NAMES_LISTED else f"{len(names)} người (danh sách trong kết quả JSON)"
        out.append(f"- **{md_text(title.name)}**: {shown or 'không có'}")
    return out


def _leadership_vi(lead: dict[str, Any]) -> str:
    if lead["method"] == "rank":
        if lead["leader"] is None:
            return "nhiều đơn vị đồng hạng nhất: Hội nghị Cụm bầu cụm trưởng"
        return "đơn vị xếp hạng nhất làm cụm trưởng, đơn vị xếp thứ hai làm cụm phó"
    if lead["leader"] is None:
        return f"không xác định được theo thứ tự luân phiên ({md_text(lead['reason'])})"
    if lead["previous_leader"] is None:
        return "chưa ghi cụm trưởng năm nay: bắt đầu từ đơn vị đầu tiên trong thứ tự luân phiên"
    if lead["reason"].endswith(NOT_IN_ROTATION):
        return (f"cụm trưởng năm {lead['year'] - 1} ({md_code(lead['previous_leader'])}) không có trong thứ tự "
                "luân phiên: bắt đầu lại từ đơn vị đầu tiên")
    return (f"luân phiên: đơn vị kế tiếp sau cụm trưởng năm {lead['year'] - 1} "
            f"({md_code(lead['previous_leader'])}) trong thứ tự luân phiên của Cụm")


def _separation_vi(sep: dict[str, Any]) -> str:
    if sep["key"] is None:
        return "bằng nhau trên mọi tiêu chí xếp hạng (đồng hạng)"
    return f"khác ở {md_code(sep['key'])}: {md_text(str(sep['this']))} so với {md_text(str(sep['other']))}"
