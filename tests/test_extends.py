"""`[policy] extends`: merge by id, removal, nested bases, plugins, errors and the policy hash."""

from __future__ import annotations

import hashlib
import types

import pytest

from thidua_rules import PolicyError, load_policy, parse_policy
from thidua_rules.cli import main

BASE = """\
[policy]
id = "base"
name = "Catalogue"
year = 2020
plugins = ["beta"]

[inputs]
x = { type = "integer", min = 0, label = "X" }

[[criteria]]
id = "chi_tieu"
name = "Chỉ tiêu"
points = 10
method = "formula"
formula = "x"

[[criteria]]
id = "dot_xuat"
name = "Đột xuất"
points = 5
method = "formula"
formula = "x"

[[criteria]]
id = "tham_muu"
name = "Tham mưu"
points = 5
method = "formula"
formula = "x"

[scoring]
bonus_max = 3
deduction_max = 3

[[bands]]
id = "tot"
min = 10

[[bands]]
id = "kem"
min = 0
"""

PLUGINS = (("alpha", types.ModuleType("alpha")), ("beta", types.ModuleType("beta")))


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def child(tmp_path, body, extends='["base.toml"]'):
    """A child policy beside BASE; its own [policy] table, then ``body``."""
    write(tmp_path, "base.toml", BASE)
    return write(tmp_path, "child.toml", f'[policy]\nid = "child"\nname = "Child"\nextends = {extends}\n{body}')


def load(path):
    return load_policy(path, display=path.name, extra_plugins=PLUGINS)


def errors(path):
    with pytest.raises(PolicyError) as info:
        load(path)
    return [issue.format() for issue in info.value.issues]


def test_override_by_id_keeps_the_base_position(tmp_path):
    """A child entry with a base id replaces only the keys it gives, where the base had it."""
    policy = load(child(tmp_path, '[[criteria]]\nid = "dot_xuat"\npoints = 8\n'))
    assert [(c.id, c.name, c.points) for c in policy.criteria] == [
        ("chi_tieu", "Chỉ tiêu", 10), ("dot_xuat", "Đột xuất", 8), ("tham_muu", "Tham mưu", 5)]


def test_remove_takes_a_base_entry_out(tmp_path):
    """`{ id = "x", remove = true }` removes the base's entry and nothing else."""
    policy = load(child(tmp_path, '[[criteria]]\nid = "dot_xuat"\nremove = true\n'))
    assert [c.id for c in policy.criteria] == ["chi_tieu", "tham_muu"]


def test_new_ids_are_appended_in_the_child_order(tmp_path):
    """Entries with new ids follow the base's, in the order the child lists them."""
    policy = load(child(tmp_path, (
        '[[criteria]]\nid = "moi_b"\npoints = 1\nmethod = "formula"\nformula = "1"\n'
        '[[criteria]]\nid = "moi_a"\npoints = 1\nmethod = "formula"\nformula = "1"\n')))
    assert [c.id for c in policy.criteria] == ["chi_tieu", "dot_xuat", "tham_muu", "moi_b", "moi_a"]


def test_plain_tables_merge_key_by_key_and_the_policy_table_is_the_childs(tmp_path):
    """Inputs and scoring take the child's keys over the base's; [policy] id, name, year are the child's."""
    policy = load(child(tmp_path, (
        '[inputs]\nx = { type = "integer", min = 0, label = "X mới" }\ny = { type = "integer" }\n'
        '[scoring]\nbonus_max = 5\n')))
    assert [(f.id, f.label) for f in policy.inputs] == [("x", "X mới"), ("y", "")]
    assert (policy.bonus_max, policy.deduction_max) == (5, 3)
    assert (policy.id, policy.name, policy.year) == ("child", "Child", None)


def test_nested_bases_apply_innermost_first(tmp_path):
    """child → mid → base: mid overrides base, child overrides mid, and removals stay removed."""
    write(tmp_path, "lib/base.toml", BASE)
    write(tmp_path, "lib/mid.toml", (
        '[policy]\nid = "mid"\nname = "Mid"\nextends = ["base.toml"]\n'
        '[[criteria]]\nid = "chi_tieu"\npoints = 20\nname = "Chỉ tiêu (mid)"\n'
        '[[criteria]]\nid = "tham_muu"\nremove = true\n'))
    path = write(tmp_path, "child.toml", (
        '[policy]\nid = "child"\nname = "Child"\nextends = ["lib/mid.toml"]\n'
        '[[criteria]]\nid = "chi_tieu"\npoints = 30\n'))
    policy = load(path)
    assert [(c.id, c.name, c.points) for c in policy.criteria] == [
        ("chi_tieu", "Chỉ tiêu (mid)", 30), ("dot_xuat", "Đột xuất", 5)]


def test_later_bases_override_earlier_ones(tmp_path):
    """Bases apply in the order listed: the second base's entry wins over the first's."""
    write(tmp_path, "other.toml", '[policy]\nid = "other"\nname = "O"\n[[criteria]]\nid = "chi_tieu"\npoints = 7\n')
    policy = load(child(tmp_path, "", extends='["base.toml", "other.toml"]'))
    assert (policy.criteria[0].id, policy.criteria[0].points) == ("chi_tieu", 7)


def test_plugins_are_the_sorted_union(tmp_path):
    """The policy needs every plugin any of its files names, sorted, each once."""
    path = child(tmp_path, "").with_name("child.toml")
    path.write_text(path.read_text(encoding="utf-8").replace(
        'name = "Child"\n', 'name = "Child"\nplugins = ["beta", "alpha"]\n'), encoding="utf-8")
    assert load(path).plugins == ("alpha", "beta")
    assert load(child(tmp_path, "")).plugins == ("beta",)


def test_a_cycle_is_an_error_naming_the_chain(tmp_path):
    """a extends b extends a: one line, on the entry that closes the cycle."""
    write(tmp_path, "b.toml", '[policy]\nid = "b"\nname = "B"\nextends = ["a.toml"]\n')
    path = write(tmp_path, "a.toml", '[policy]\nid = "a"\nname = "A"\nextends = ["b.toml"]\n')
    assert errors(path) == ["b.toml: policy.extends[0]: extends cycle: a.toml → b.toml → a.toml"]


def test_a_missing_base_is_an_error_with_a_hint(tmp_path):
    """A misspelt base names the file it looked for and the nearest one that exists."""
    write(tmp_path, "catalogue/law2022.toml", BASE)
    path = write(tmp_path, "child.toml", '[policy]\nid = "c"\nname = "C"\nextends = ["catalogue/law2023.toml"]\n')
    assert errors(path) == [
        "child.toml: policy.extends[0]: file not found: catalogue/law2023.toml "
        "(did you mean 'catalogue/law2022.toml'?)"]


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    """A syntax error in a base, a wrong entry, a missing base and an unknown removal, together."""
    write(tmp_path, "bad.toml", '[policy]\nid = = "x"\n')
    path = child(tmp_path, (
        '[[criteria]]\nid = "chi_tieux"\nremove = true\n'
        '[[bands]]\nid = "kem"\nremove = false\n'), extends='["base.toml", "bad.toml", 3, "khong_co.toml"]')
    assert errors(path) == [
        "child.toml: policy.extends[1]: bad.toml:2:6: TOML syntax: Invalid value",
        "child.toml: policy.extends[2]: expected a file path, got an integer 3",
        "child.toml: policy.extends[3]: file not found: khong_co.toml",
        "child.toml: criteria[0](id=chi_tieux).id: cannot remove 'chi_tieux': no such id in the "
        "bases' criteria (did you mean 'chi_tieu'?)",
        'child.toml: bands[0](id=kem).remove: expected true (to remove the base\'s entry), got false',
    ]


def test_a_base_section_of_the_wrong_shape_is_reported_against_the_base(tmp_path):
    """`criteria = 3` in a base is that file's error, not the extending file's."""
    write(tmp_path, "base.toml", 'criteria = 3\n[policy]\nid = "b"\nname = "B"\n')
    path = write(tmp_path, "child.toml", '[policy]\nid = "c"\nname = "C"\nextends = ["base.toml"]\n')
    assert errors(path) == ["base.toml: criteria: expected an array of tables, got an integer 3"]


def test_parse_policy_without_a_path_takes_only_absolute_bases(tmp_path, monkeypatch):
    """Bytes without a path cannot resolve a relative base; an absolute one works in a folder of
    THIDUA_POLICY_PATH (and only there: bytes have no folder of their own)."""
    base = write(tmp_path, "base.toml", BASE)
    text = '[policy]\nid = "c"\nname = "C"\nextends = ["{}"]\n'
    monkeypatch.delenv("THIDUA_POLICY_PATH", raising=False)
    with pytest.raises(PolicyError) as info:
        parse_policy(text.format("base.toml").encode(), file="policy.toml", extra_plugins=PLUGINS)
    assert [i.format() for i in info.value.issues] == [
        "policy.toml: policy.extends[0]: cannot resolve 'base.toml' without the policy's own path; "
        "load the policy from its file, or name a packaged base ('thidua:catalogue/…') "
        "or an absolute path in a folder listed in THIDUA_POLICY_PATH"]
    with pytest.raises(PolicyError) as info:
        parse_policy(text.format(base.as_posix()).encode(), file="policy.toml", extra_plugins=PLUGINS)
    assert [i.format() for i in info.value.issues] == [
        f"policy.toml: policy.extends[0]: '{base.as_posix()}' is outside the policy's folder: a base must be "
        "in that folder or below it, in the packaged catalogue ('thidua:catalogue/…') "
        "or in a folder listed in THIDUA_POLICY_PATH"]
    monkeypatch.setenv("THIDUA_POLICY_PATH", str(tmp_path))
    policy = parse_policy(text.format(base.as_posix()).encode(), file="policy.toml", extra_plugins=PLUGINS)
    assert [c.id for c in policy.criteria] == ["chi_tieu", "dot_xuat", "tham_muu"]


def test_the_hash_covers_every_base(tmp_path):
    """Changing a base changes the policy hash; the hash is over the sorted (name, sha256) lines."""
    path = child(tmp_path, "")
    digest = load(path).sha256
    files = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
             for name in ("base.toml", "child.toml")}
    manifest = "".join(f"{files[name]}  {name}\n" for name in sorted(files))
    assert digest == hashlib.sha256(manifest.encode()).hexdigest()
    with (tmp_path / "base.toml").open("a", encoding="utf-8") as f:
        f.write("# a comment changes the bytes\n")
    assert load(path).sha256 != digest


def test_a_single_file_keeps_the_hash_of_its_bytes(tmp_path):
    """Without `extends`, the hash is the SHA-256 of the file's bytes, as before."""
    path = write(tmp_path, "base.toml", BASE)
    assert load(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_cli_exits_2_with_the_lines(tmp_path, capsys, monkeypatch):
    """`thidua validate` on a policy with a missing base prints one line and exits 2."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "child.toml", '[policy]\nid = "c"\nname = "C"\nextends = ["none.toml"]\n')
    assert main(["validate", "child.toml"]) == 2
    assert capsys.readouterr().err == "child.toml: policy.extends[0]: file not found: none.toml\n"


def test_a_base_reached_twice_is_merged_and_reported_once(tmp_path):
    """Two bases sharing a base (a diamond) work, and a problem in the shared one is one line."""
    write(tmp_path, "root.toml", BASE + '\n[[criteria]]\nid = "bo"\nremove = true\n')
    write(tmp_path, "left.toml", '[policy]\nid = "l"\nname = "L"\nextends = ["root.toml"]\n')
    write(tmp_path, "right.toml", '[policy]\nid = "r"\nname = "R"\nextends = ["root.toml"]\n')
    path = write(tmp_path, "child.toml", '[policy]\nid = "c"\nname = "C"\nextends = ["left.toml", "right.toml"]\n')
    assert errors(path) == ["root.toml: criteria[3](id=bo).id: cannot remove 'bo': no such id in the bases' criteria"]
    write(tmp_path, "root.toml", BASE)
    assert [c.id for c in load(path).criteria] == ["chi_tieu", "dot_xuat", "tham_muu"]


def test_errors_in_merged_entries_name_the_file_that_defines_them(tmp_path):
    """A bad expression in a base says which base holds it; an entry the child changed says so."""
    write(tmp_path, "base.toml", BASE.replace('formula = "x"', 'formula = "y"', 1))
    path = write(tmp_path, "child.toml", (
        '[policy]\nid = "child"\nname = "Child"\nextends = ["base.toml"]\n'
        '[[criteria]]\nid = "dot_xuat"\npoints = -1\n'))
    with pytest.raises(PolicyError) as err:
        load_policy(path, display="child.toml", extra_plugins=PLUGINS)
    assert [line.splitlines()[0] for line in err.value.lines()] == [
        "child.toml: criteria[0](id=chi_tieu).formula: unknown name 'y' (defined in base.toml)",
        "child.toml: criteria[1](id=dot_xuat).points: expected a number >= 0, got -1 "
        "(defined in base.toml, changed in this file)",
    ]
