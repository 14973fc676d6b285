"""Seeded, realistic unit data for the example policy: clusters of 6 to 15 units."""

from __future__ import annotations

import csv
import io
import random

FIELDS = [
    "cluster", "id", "name", "targets_assigned", "targets_done", "ad_hoc_assigned", "ad_hoc_done",
    "advisory_adopted", "joint_activities", "party_rating", "members", "members_completed",
    "members_advanced", "emulation_fighters", "ad_hoc_commendations", "members_disciplined",
    "inspection_findings",
]
RATINGS = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"]


def make_rows(units: int, seed: int = 2022) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    cluster = 0
    while len(rows) < units:
        cluster += 1
        for k in range(min(rng.randint(6, 15), units - len(rows))):
            targets = rng.randint(5, 20)
            ad_hoc = rng.randint(1, 8)
            members = rng.randint(20, 400)
            completed = members - rng.choice([0, 0, 0, 1, 2, 5])
            rows.append({
                "cluster": f"cum{cluster:06d}", "id": f"u{cluster:06d}-{k:02d}",
                "name": f"Đơn vị {cluster}-{k}",
                "targets_assigned": targets, "targets_done": rng.randint(targets * 3 // 4, targets),
                "ad_hoc_assigned": ad_hoc, "ad_hoc_done": rng.randint(ad_hoc // 2, ad_hoc),
                "advisory_adopted": rng.randint(0, 12), "joint_activities": rng.randint(0, 4),
                "party_rating": rng.choices(RATINGS, weights=[5, 8, 3, 1])[0],
                "members": members, "members_completed": completed,
                "members_advanced": rng.randint(members // 3, completed),
                "emulation_fighters": rng.randint(0, members // 10),
                "ad_hoc_commendations": rng.randint(0, 3), "members_disciplined": rng.choice([0, 0, 0, 1, 2]),
                "inspection_findings": rng.choice([0, 0, 0, 0, 1]),
            })
    return rows


def make_csv(units: int, seed: int = 2022) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(make_rows(units, seed))
    return out.getvalue().encode("utf-8")
