"""The policy library: every shipped policy loads, and the rebuilt Cụm 8 policy matches the original."""

from __future__ import annotations

import hashlib
import importlib.metadata
import tomllib

import pytest

from thidua_rules import build_document, evaluate, load_data, load_policy

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

POLICIES = ROOT / "policies"
SHIPPED = sorted(p for p in POLICIES.rglob("*.toml") if not p.name.endswith(".tests.toml"))


def outcome(policy_path):
    """The parts of the result document a cluster acts on, for the example data."""
    policy = load_policy(policy_path)
    doc = build_document(evaluate(policy, load_data(EXAMPLE_DATA, policy)))
    units = [
        {"id": u["id"], "rank": u["rank"], "total": u["total"], "band": u["band"], "proposed": u["proposed"],
         "titles": {t["id"]: t["status"] for t in u["explanation"]["titles"]}}
        for u in doc["units"]
    ]
    return units, doc["leadership"]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.relative_to(POLICIES).as_posix() for p in SHIPPED])
def test_every_shipped_policy_loads(path):
    """Each policy and catalogue file in policies/ compiles on its own (given its plugins)."""
    needed = set(tomllib.loads(path.read_text(encoding="utf-8")).get("policy", {}).get("plugins", []))
    installed = {ep.name for ep in importlib.metadata.entry_points(group="thidua_rules")}
    if needed - installed:
        pytest.skip(f"needs plugins {sorted(needed - installed)} (installed with plugins/*)")
    assert load_policy(path).id


def test_bca_cum8_gives_the_outcome_of_cum8_2022():
    """The policy rebuilt on the catalogue gives the same ranks, totals, bands, titles and leaders."""
    units, leadership = outcome(POLICIES / "bca-cum8.toml")
    assert len(units) == 6
    assert (units, leadership) == outcome(EXAMPLE_POLICY)


def test_the_policy_hash_covers_the_catalogue():
    """bca-cum8's hash is over itself and both catalogue files it reads, named from policies/."""
    names = ["bca-cum8.toml", "catalogue/law2022.toml", "catalogue/ratings.toml"]
    manifest = "".join(f"{hashlib.sha256((POLICIES / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    assert load_policy(POLICIES / "bca-cum8.toml").sha256 == hashlib.sha256(manifest.encode()).hexdigest()
