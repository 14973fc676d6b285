"""The distributions: Apache-2.0 in their metadata and files, and an installed wheel that carries
the catalogue, so that `extends = ["thidua:catalogue/…"]` works outside a checkout."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from .conftest import ROOT

DISTRIBUTIONS = ["thidua_rules", "thidua-cand", "thidua-research"]


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_the_installed_metadata_names_the_licence(name):
    """What `pip show` reads: the SPDX expression and the licence file."""
    meta = importlib.metadata.metadata(name)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]


def test_every_distribution_ships_the_standard_licence_text():
    """The Apache License 2.0 word for word (its SHA-256 is that of apache.org's LICENSE-2.0.txt)."""
    texts = [(ROOT / "LICENSE").read_bytes(),
             *((ROOT / "plugins" / p / "LICENSE").read_bytes() for p in ("thidua-cand", "thidua-research"))]
    assert {t for t in texts} == {texts[0]}
    import hashlib

    assert hashlib.sha256(texts[0]).hexdigest() == "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


SCRIPT = textwrap.dedent('''\
    import importlib.metadata, json, sys
    import thidua_rules
    from thidua_rules import evaluate, load_data, load_policy
    policy = load_policy(sys.argv[1])
    result = evaluate(policy, load_data(sys.argv[2], policy))
    print(json.dumps({
        "module": thidua_rules.__file__,
        "licence": importlib.metadata.metadata("thidua_rules")["License-Expression"],
        "sha256": policy.sha256,
        "units": [[u.id, u.rank, str(u.total), list(u.proposed)] for c in result.clusters for u in c.units],
    }))
''')


def test_an_installed_wheel_resolves_the_packaged_catalogue(tmp_path):
    """`pip wheel .`, installed (--no-deps) into a fresh venv that borrows this one's
    dependencies: a policy outside the checkout extending `thidua:catalogue/law2022.toml`
    evaluates as the shipped bca-cum8 does, and its hash does not depend on where it is installed."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("thidua_rules-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # attrs, pluggy, tomli-w from this environment, as plain paths: its .pth files (the editable
    # install of the checkout) are not run, so `thidua_rules` can only come from the wheel.
    (tmp_path / "venv" / site.split(str(venv) + "/", 1)[1] / "deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True)

    text = (ROOT / "policies" / "bca-cum8.toml").read_text(encoding="utf-8")
    policy = tmp_path / "mine" / "bca.toml"
    policy.parent.mkdir()
    policy.write_text(text.replace('extends = ["catalogue/law2022.toml"]',
                                   'extends = ["thidua:catalogue/law2022.toml"]'), encoding="utf-8")
    (tmp_path / "run.py").write_text(SCRIPT, encoding="utf-8")
    data = ROOT / "examples" / "cum8-2022" / "units.toml"
    out = subprocess.run([python, str(tmp_path / "run.py"), str(policy), str(data)], check=True,
                         capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}).stdout
    got = json.loads(out)
    assert got["module"].startswith(str(venv))
    assert got["licence"] == "Apache-2.0"

    from thidua_rules import evaluate, load_data, load_policy

    here = load_policy(policy)   # the same policy resolved from the checkout's package
    assert got["sha256"] == here.sha256
    shipped = load_policy(ROOT / "policies" / "bca-cum8.toml")
    result = evaluate(shipped, load_data(data, shipped))
    assert got["units"] == [[u.id, u.rank, str(u.total), list(u.proposed)] for c in result.clusters for u in c.units]
