"""A seeded large policy (40 criteria in 8 groups, 10 titles) and unit data for it."""

from __future__ import annotations

import csv
import io
import json
import random

INPUTS = 24
CRITERIA = 40
GROUPS = 8
TITLES = 10


def make_policy(seed: int = 40) -> str:
    """The TOML text of a policy with every built-in method, gates, bonuses, deductions, bands,
    a three-key ranking chain and a ladder of titles with quotas and conditions."""
    rng = random.Random(seed)
    out = ['[policy]', 'id = "bench_large"', 'name = "Benchmark: 40 criteria, 10 titles"',
           'year = 2024', 'precision = 2', '', '[inputs]']
    for i in range(INPUTS):
        out.append(f'x{i:02d} = {{ type = "integer", min = 0 }}')
    out.append('target = { type = "integer", min = 1 }')
    out.append('rating = { type = "enum", values = ["a", "b", "c", "d"] }')
    out.append('has_plan = { type = "boolean" }')
    out.append('')
    for g in range(GROUPS):
        out += ['[[groups]]', f'id = "g{g}"', f'name = "Group {g}"', f'max = {rng.randint(10, 14)}', '']
    methods = ["proportional", "bands", "lookup", "formula", "per_item", "full_if"]
    for c in range(CRITERIA):
        method = methods[c % len(methods)]
        x = f"x{c % INPUTS:02d}"
        out += ['[[criteria]]', f'id = "c{c:02d}"', f'group = "g{c % GROUPS}"', f'name = "Criterion {c}"',
                'points = 3', f'method = "{method}"']
        if method == "proportional":
            out += [f'value = "{x}"', 'target = "target"']
        elif method == "bands":
            out += [f'value = "{x}"', ('bands = [{ at_least = 15, points = 3 }, '
                                       '{ at_least = 8, points = 2 }, { above = 0, points = 1 }]')]
        elif method == "lookup":
            out += ['value = "rating"', 'table = { a = 3, b = 2, c = 1 }']
        elif method == "formula":
            out += [f'formula = "3 * min({x}, target) / target"']
        elif method == "per_item":
            out += [f'value = "{x}"', 'each = 0.25']
        else:
            out += [f'condition = "{x} >= 5 and has_plan"']
        if c % 7 == 3:
            out.append('gate = "has_plan"')
        out.append('')
    out += ['[scoring]', 'bonus_max = 5', 'deduction_max = 10', '']
    for b in range(3):
        out += ['[[bonuses]]', f'id = "b{b}"', f'name = "Bonus {b}"', f'formula = "0.5 * x{b:02d}"', 'max = 2', '']
    for d in range(3):
        out += ['[[deductions]]', f'id = "d{d}"', f'name = "Deduction {d}"',
                f'formula = "x{INPUTS - 1 - d:02d} / 4"', 'max = 3', '']
    for band, low in (("xuat_sac", 90), ("tot", 75), ("hoan_thanh", 55), ("khong_hoan_thanh", 0)):
        out += ['[[bands]]', f'id = "{band}"', f'name = "{band}"', f'min = {low}', '']
    out += ['[ranking]', 'order = ["total", "group.g0", "criterion.c00"]', 'ties = "shared"', '']
    for t in range(TITLES):
        out += ['[[titles]]', f'id = "t{t}"', f'name = "Title {t}"']
        if t < 6:
            out.append('ladder = "main"')
            if t:
                out.append(f'requires = ["t{t - 1}"]')
            out.append(f'when = "total >= {55 + 6 * t} and x{t:02d} >= {t}"')
            if t >= 3:
                out.append(f'quota = {{ share = {0.8 - 0.1 * t:.1f}, rounding = "floor" }}')
        else:
            out.append(f'when = "band in [\'xuat_sac\', \'tot\'] and rank <= {t - 3}"')
            if t == TITLES - 1:
                out.append('quota = { count = 1 }')
        out.append('')
    return "\n".join(out)


def make_rows(units: int, seed: int = 2024) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    cluster = 0
    while len(rows) < units:
        cluster += 1
        for k in range(min(rng.randint(6, 15), units - len(rows))):
            row: dict[str, object] = {"cluster": f"k{cluster:06d}", "id": f"v{cluster:06d}-{k:02d}",
                                      "name": f"Đơn vị {cluster}-{k}"}
            for i in range(INPUTS):
                row[f"x{i:02d}"] = rng.randint(0, 20)
            row["target"] = rng.randint(10, 20)
            row["rating"] = rng.choice("aabbcd")
            row["has_plan"] = rng.random() < 0.9
            rows.append(row)
    return rows


FIELDS = ["cluster", "id", "name", *(f"x{i:02d}" for i in range(INPUTS)), "target", "rating", "has_plan"]


def make_csv(units: int, seed: int = 2024) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in make_rows(units, seed):
        writer.writerow({**row, "has_plan": "true" if row["has_plan"] else "false"})
    return out.getvalue().encode("utf-8")


def make_jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
