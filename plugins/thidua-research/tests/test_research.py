"""The research plugin: the research_output method, its checks, and its install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import thidua_research

from thidua_rules import evaluate, load_data, load_policy, render

REPO = Path(__file__).resolve().parents[3]
POLICY_FILE = REPO / "policies" / "research-khcn-2023.toml"
DATA_FILE = REPO / "examples" / "research-khcn-2023" / "units.toml"
RESEARCH = [("research", thidua_research)]

POLICY = """\
[policy]
id = "t"
name = "T"
year = 2023
plugins = ["research"]

[inputs]
state = { type = "integer", min = 0 }
ministry = { type = "integer", min = 0 }
grassroots = { type = "integer", min = 0 }
patents = { type = "integer", min = 0 }
papers = { type = "integer", min = 0 }

[[criteria]]
id = "nghien_cuu"
points = 50
method = "research_output"
topics = { state = "state", ministry = "ministry", grassroots = "grassroots" }
per_topic = { state = 15, ministry = 8, grassroots = 3 }
patents = "patents"
per_patent = 5
publications = "papers"
per_publication = 2.5
caps = { grassroots = 9, publications = 10 }
"""

DATA = """\
[cluster]
id = "k"
name = "K"
year = 2023

[[units]]
id = "vien-a"
name = "Viện A"
state = 1
ministry = 2
grassroots = 4
patents = 1
papers = 5

[[units]]
id = "vien-b"
name = "Viện B"
state = 0
ministry = 1
grassroots = 1
patents = 0
papers = 2
"""


def thidua(*args: str) -> str:
    """Run the installed command line (``python -m thidua_rules``) and return its output."""
    done = subprocess.run([sys.executable, "-m", "thidua_rules", *args], capture_output=True,
                          text=True, encoding="utf-8", check=True)
    return done.stdout


def test_shipped_policy_evaluates_to_the_documented_table():
    """The shipped research-institute example ranks and bands the three institutes as documented."""
    policy = load_policy(POLICY_FILE)
    result = evaluate(policy, load_data(DATA_FILE, policy))
    assert render(result, "table").splitlines()[1:] == [
        "rank  unit             total  band        proposed",
        "----  ---------------  -----  ----------  -------------------------",
        "   1  vien-khcn        96.00  xuat_sac    tap_the_lao_dong_xuat_sac",
        "   2  vien-chien-luoc  90.00  xuat_sac    tap_the_lao_dong_xuat_sac",
        "   3  vien-lich-su     66.33  hoan_thanh  -",
    ]


def test_points_by_level_with_caps_and_the_criterion_maximum(thidua_evaluate):
    """Each part is count × points, capped where the policy says, and the sum kept within points."""
    doc = thidua_evaluate(POLICY, DATA, plugins=RESEARCH, format="document")
    a, b = (u["explanation"]["criteria"][0] for u in doc["units"])
    assert a["facts"] == {
        "state": "1 × 15 = 15", "ministry": "2 × 8 = 16", "grassroots": "4 × 3, at most 9 = 9",
        "patents": "1 × 5 = 5", "publications": "5 × 2.5, at most 10 = 10"}
    assert (a["raw"], a["score"], a["capped"], a["plugin"]) == ("55", "50.00", True, "research")
    assert (b["raw"], b["score"]) == ("16", "16.00")


def test_policy_mistakes_are_reported_at_their_keys(thidua_errors):
    """Unknown levels, missing points, unpaired keys and bad caps are all reported at once."""
    policy = POLICY.replace('per_topic = { state = 15, ministry = 8, grassroots = 3 }',
                            'per_topic = { ministry = 8, grassroots = 3, province = 4 }').replace(
        'per_patent = 5\n', '').replace('caps = { grassroots = 9, publications = 10 }',
                                        'caps = { grassroots = -1 }')
    assert thidua_errors(policy, DATA, plugins=RESEARCH) == [
        "policy.toml: criteria[0](id=nghien_cuu).per_topic.province: unknown key 'province'; "
        "expected one of state, ministry, grassroots",
        "policy.toml: criteria[0](id=nghien_cuu).per_topic: missing key 'state' (points per "
        "state-level topic)",
        "policy.toml: criteria[0](id=nghien_cuu).patents: 'patents' and 'per_patent' go together",
        "policy.toml: criteria[0](id=nghien_cuu).caps.grassroots: expected a number >= 0, got -1",
    ]


def test_thidua_plugins_lists_research_with_its_version():
    """`thidua plugins` lists the installed research plugin with its distribution, version and hook."""
    row = next(line for line in thidua("plugins").splitlines() if line.startswith("research "))
    assert row.split() == ["research", "thidua-research", "0.1.0", "register_criterion_methods"]
    rows = {r["name"]: r for r in json.loads(thidua("plugins", "--json"))}
    assert rows["research"]["version"] == "0.1.0"
