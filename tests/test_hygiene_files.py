"""Which files the engine reads: only regular files, of a bounded size; a policy's bases only from
its own folder tree, the packaged catalogue (``thidua:catalogue/…``) or THIDUA_POLICY_PATH."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from thidua_rules import evaluate, load_data, load_policy
from thidua_rules.cli import main
from thidua_rules.loader.common import POLICY_MAX_BYTES

from .conftest import ROOT

OUTSIDE = ("is outside the policy's folder: a base must be in that folder or below it, in the packaged "
           "catalogue ('thidua:catalogue/…') or in a folder listed in THIDUA_POLICY_PATH")
CHILD = '[policy]\nid = "c"\nname = "C"\nextends = [{}]\n'


@pytest.fixture(autouse=True)
def _no_policy_path(monkeypatch):
    monkeypatch.delenv("THIDUA_POLICY_PATH", raising=False)


def run(capsys, *args: str) -> list[str]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    return captured.err.splitlines()


def child(folder: Path, *entries: str, name: str = "policy.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CHILD.format(", ".join(f'"{e}"' for e in entries)), encoding="utf-8")
    return path


def test_a_base_outside_the_policys_folder_is_refused(tmp_path, capsys, monkeypatch):
    """`../x.toml` is refused without being read, whether it exists or not."""
    (tmp_path / "lib.toml").write_text('[policy]\nid = "lib"\nname = "L"\n', encoding="utf-8")
    path = child(tmp_path / "mine", "../lib.toml", "../../nowhere.toml")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "validate", "mine/policy.toml") == [
        f"mine/policy.toml: policy.extends[0]: '../lib.toml' {OUTSIDE}",
        f"mine/policy.toml: policy.extends[1]: '../../nowhere.toml' {OUTSIDE}",
    ]
    # Listed in THIDUA_POLICY_PATH, the folder's files may be extended.
    monkeypatch.setenv("THIDUA_POLICY_PATH", os.pathsep.join(["", str(tmp_path / "elsewhere"), str(tmp_path)]))
    path.write_text(CHILD.format('"../lib.toml"') + "[[criteria]]\nid = \"a\"\nname = \"A\"\npoints = 1\n"
                    "method = \"formula\"\nformula = \"1\"\n", encoding="utf-8")
    assert load_policy(path).id == "c"


def test_an_absolute_base_outside_and_dev_files_are_refused(tmp_path, capsys, monkeypatch):
    """/dev/zero and /dev/stdin are outside any policy's folder."""
    monkeypatch.chdir(tmp_path)
    child(tmp_path, "/dev/zero", "/dev/stdin", "/etc/passwd")
    assert run(capsys, "validate", "policy.toml") == [
        f"policy.toml: policy.extends[0]: '/dev/zero' {OUTSIDE}",
        f"policy.toml: policy.extends[1]: '/dev/stdin' {OUTSIDE}",
        f"policy.toml: policy.extends[2]: '/etc/passwd' {OUTSIDE}",
    ]


def test_a_symbolic_link_leading_outside_is_refused(tmp_path, capsys, monkeypatch):
    """The folder test follows links: a link in the folder to a file outside it is outside."""
    (tmp_path / "lib.toml").write_text('[policy]\nid = "lib"\nname = "L"\n', encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "lib.toml").symlink_to(tmp_path / "lib.toml")
    child(tmp_path / "mine", "lib.toml")
    monkeypatch.chdir(tmp_path / "mine")
    assert run(capsys, "validate", "policy.toml") == [f"policy.toml: policy.extends[0]: 'lib.toml' {OUTSIDE}"]


def test_special_files_loops_folders_and_huge_bases_are_refused(tmp_path, capsys, monkeypatch):
    """One line each, and nothing blocks: a named pipe is opened without waiting for a writer."""
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "loop.toml").symlink_to("loop.toml")
    (tmp_path / "sub.toml").mkdir()
    (tmp_path / "big.toml").write_bytes(b"#" * (POLICY_MAX_BYTES + 1))
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    monkeypatch.setenv("THIDUA_POLICY_PATH", "/dev")
    child(tmp_path, "pipe.toml", "loop.toml", "sub.toml", "big.toml", "zero.toml")
    assert run(capsys, "validate", "policy.toml") == [
        "policy.toml: policy.extends[0]: pipe.toml is a named pipe, not a regular file: give a file's path",
        "policy.toml: policy.extends[1]: cannot read loop.toml: symbolic link loop",
        "policy.toml: policy.extends[2]: sub.toml is a folder, expected a file",
        "policy.toml: policy.extends[3]: big.toml is larger than 10 MiB, the most read of such a file",
        "policy.toml: policy.extends[4]: zero.toml is a character device, not a regular file: give a file's path",
    ]


def test_every_file_read_is_a_regular_file(tmp_path, capsys, monkeypatch):
    """The policy, data, members and tests files: the same check, one line naming the file."""
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "loop.toml").symlink_to("loop.toml")
    policy = ROOT / "policies" / "cum8-2022.toml"
    assert run(capsys, "validate", "pipe.toml") == ["pipe.toml: is a named pipe, not a regular file: give a file's path"]
    assert run(capsys, "validate", "loop.toml") == ["loop.toml: cannot read: symbolic link loop"]
    assert run(capsys, "validate", str(policy), "/dev/zero", "--data-format", "csv") == [
        "/dev/zero: is a character device, not a regular file: give a file's path"]
    assert run(capsys, "validate", str(policy), "pipe.toml") == [
        "pipe.toml: is a named pipe, not a regular file: give a file's path"]
    assert run(capsys, "validate", str(policy), str(ROOT / "examples" / "cum8-2022" / "units.toml"),
               "--members", "pipe.toml") == ["pipe.toml: is a named pipe, not a regular file: give a file's path"]
    (tmp_path / "big.toml").write_bytes(b"#" * (POLICY_MAX_BYTES + 1))
    assert run(capsys, "validate", "big.toml") == ["big.toml: is larger than 10 MiB, the most read of such a file"]


def test_a_packaged_base_resolves_anywhere_and_is_named_the_same(tmp_path):
    """`thidua:catalogue/law2022.toml` from a policy outside the checkout; the hash names the
    packaged files `thidua:catalogue/…`, not where the package is installed."""
    text = (ROOT / "policies" / "bca-cum8.toml").read_text(encoding="utf-8")
    assert 'extends = ["catalogue/law2022.toml"]' in text
    path = tmp_path / "bca.toml"
    path.write_text(text.replace('extends = ["catalogue/law2022.toml"]',
                                 'extends = ["thidua:catalogue/law2022.toml"]'), encoding="utf-8")
    policy = load_policy(path)
    shipped = load_policy(ROOT / "policies" / "bca-cum8.toml")
    data = ROOT / "examples" / "cum8-2022" / "units.toml"
    mine, theirs = evaluate(policy, load_data(data, policy)), evaluate(shipped, load_data(data, shipped))
    assert [(u.id, u.rank, u.total, u.proposed) for c in mine.clusters for u in c.units] == \
        [(u.id, u.rank, u.total, u.proposed) for c in theirs.clusters for u in c.units]
    catalogue = ROOT / "src" / "thidua_rules" / "catalogue"
    files = {"bca.toml": path, "thidua:catalogue/law2022.toml": catalogue / "law2022.toml",
             "thidua:catalogue/ratings.toml": catalogue / "ratings.toml"}
    manifest = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {n}\n" for n, p in sorted(files.items()))
    assert policy.sha256 == hashlib.sha256(manifest.encode()).hexdigest()


def test_packaged_base_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    child(tmp_path, "thidua:catalogue/law2023.toml", "thidua:law2022.toml", "thidua:catalogue/../../engine.py")
    assert run(capsys, "validate", "policy.toml") == [
        "policy.toml: policy.extends[0]: file not found: thidua:catalogue/law2023.toml "
        "(did you mean 'thidua:catalogue/law2022.toml'?)",
        "policy.toml: policy.extends[1]: 'thidua:law2022.toml' is not in the packaged catalogue; it has "
        "'thidua:catalogue/law2022-people.toml', 'thidua:catalogue/law2022.toml', 'thidua:catalogue/ratings.toml'",
        "policy.toml: policy.extends[2]: 'thidua:catalogue/../../engine.py' is not in the packaged catalogue; it has "
        "'thidua:catalogue/law2022-people.toml', 'thidua:catalogue/law2022.toml', 'thidua:catalogue/ratings.toml'",
    ]


def test_the_catalogue_in_policies_is_the_packaged_one():
    """policies/catalogue is a copy of src/thidua_rules/catalogue (the source, shipped in the
    wheel), kept so that the shipped policies extend `catalogue/…` beside them."""
    packaged = ROOT / "src" / "thidua_rules" / "catalogue"
    copy = ROOT / "policies" / "catalogue"
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in packaged.iterdir())
    for p in sorted(packaged.iterdir()):
        assert (copy / p.name).read_bytes() == p.read_bytes(), (
            f"policies/catalogue/{p.name} differs from src/thidua_rules/catalogue/{p.name}: "
            "edit the packaged file and copy it over")


def test_the_shipped_policies_extend_within_their_folder():
    """Every shipped policy loads under the folder rule (their bases are in policies/)."""
    for path in sorted((ROOT / "policies").glob("*.toml")):
        if path.name.endswith(".tests.toml"):
            continue
        assert load_policy(path).id


def test_an_extending_policy_streams_in_several_processes(tmp_path, capsys):
    """--jobs 2 with bca-cum8 (which extends the catalogue): the workers resolve its bases, and
    the output is that of one process (it used to fail with "the file changed while it was read")."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import generate

    data = tmp_path / "units.csv"
    data.write_bytes(generate.make_csv(60))
    policy = str(ROOT / "policies" / "bca-cum8.toml")
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        assert main(["evaluate", policy, str(data), "--format", "jsonl", "--jobs", jobs, "-o", str(out)]) == 0
        outputs.append(out.read_bytes())
    assert capsys.readouterr().err == ""
    assert outputs[0] == outputs[1]
