"""A naive evaluator of the example policy: the peer of ``bench_json.py``'s whole-process target.

    python benchmarks/naive_eval.py POLICY UNITS.csv OUT.json

What someone would write in an afternoon instead of using the engine: read the policy with
``tomllib`` and the units with ``csv.DictReader``; for every unit, score each criterion by its
method, ``eval`` each formula and each title's ``when`` text against the unit's figures (floats,
Python's ``round``), cap groups, bonuses and deductions, classify, sort by total and write the
totals, bands and titles met as indented JSON with the standard library. No checks, no
explanation, no quotas, votes, streaks or ties: a lower bound for the same work, not an engine.

``eval`` is used here on purpose (it is the peer being measured), on the project's own policy
file; the engine never evaluates policy text this way (docs/expressions.md).
"""

from __future__ import annotations

import csv
import json
import sys
import tomllib
from typing import Any

NO_BUILTINS: dict[str, Any] = {"__builtins__": {}}


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _criterion(criterion: dict[str, Any], env: dict[str, Any]) -> float:
    points = criterion["points"]
    method = criterion["method"]
    if method == "proportional":
        raw = points * env[criterion["value"]] / env[criterion["target"]]
    elif method == "bands":
        value = env[criterion["value"]]
        raw = next((band["points"] for band in criterion["bands"] if value >= band["at_least"]), 0)
    elif method == "lookup":
        raw = criterion["table"].get(env[criterion["value"]], 0)
    else:
        raw = eval(criterion["formula"], NO_BUILTINS, env)
    return round(min(max(raw, 0), points), 2)


def evaluate(policy: dict[str, Any], rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Every unit's total, band and titles met, best total first."""
    groups = {group["id"]: group["max"] for group in policy["groups"]}
    scoring = policy.get("scoring", {})
    results = []
    for row in rows:
        env = {key: _number(value) for key, value in row.items()}
        sums = dict.fromkeys(groups, 0.0)
        for criterion in policy["criteria"]:
            sums[criterion["group"]] += _criterion(criterion, env)
        total = sum(min(value, groups[key]) for key, value in sums.items())
        bonus = sum(min(eval(b["formula"], NO_BUILTINS, env), b["max"]) for b in policy.get("bonuses", []))
        deduction = sum(min(eval(d["formula"], NO_BUILTINS, env), d["max"])
                        for d in policy.get("deductions", []))
        total = round(total + min(bonus, scoring.get("bonus_max", bonus))
                      - min(deduction, scoring.get("deduction_max", deduction)), 2)
        band = next(b["id"] for b in policy["bands"] if total >= b["min"])
        env.update(total=total, band=band, rank=0)
        results.append({"id": row["id"], "cluster": row["cluster"], "total": total, "band": band, "env": env})
    results.sort(key=lambda unit: (unit["cluster"], -unit["total"], unit["id"]))
    rank, cluster = 0, None
    for unit in results:
        rank = rank + 1 if unit["cluster"] == cluster else 1
        cluster = unit["cluster"]
        env = unit.pop("env")
        env["rank"] = rank
        unit["rank"] = rank
        unit["titles"] = [title["id"] for title in policy["titles"]
                          if "when" in title and "consecutive_years" not in title["when"]
                          and eval(title["when"], NO_BUILTINS, env)]
    return results


def main(argv: list[str]) -> None:
    policy_path, data_path, out_path = argv
    with open(policy_path, "rb") as file:
        policy = tomllib.load(file)
    with open(data_path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    with open(out_path, "w", encoding="utf-8") as file:
        json.dump({"units": evaluate(policy, rows)}, file, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
