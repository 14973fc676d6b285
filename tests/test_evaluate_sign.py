"""`thidua evaluate --sign-key`: the JSON result and its detached Ed25519 signature written together,
atomically, so that `thidua verify --key` accepts them; misuse is one line and writes nothing."""

from __future__ import annotations

import pytest

from thidua_rules import signing
from thidua_rules.cli import main

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

pytest.importorskip("cryptography")  # the optional `sign` extra, installed by the `test` extra


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "k.pem", folder / "k.pub.pem"
    assert main(["keygen", str(private), str(public)]) == 0
    return private, public


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_signed_result_verifies_and_equals_what_sign_writes(capsys, tmp_path, keys):
    """The result is the same bytes as without --sign-key, the signature the same as `thidua sign`
    gives for them (Ed25519 is deterministic), and `verify --key` accepts the pair."""
    private, public = keys
    result, plain = tmp_path / "result.json", tmp_path / "plain.json"
    assert run(capsys, "evaluate", EXAMPLE_POLICY, EXAMPLE_DATA, "-o", result, "--sign-key", private) == (
        0, f"signed: {result}.sig\n", "")
    assert run(capsys, "evaluate", EXAMPLE_POLICY, EXAMPLE_DATA, "-o", plain)[0] == 0
    assert result.read_bytes() == plain.read_bytes()
    assert run(capsys, "sign", plain, "--key", private, "-o", tmp_path / "plain.sig")[0] == 0
    assert (tmp_path / "result.json.sig").read_bytes() == (tmp_path / "plain.sig").read_bytes()
    code, out, err = run(capsys, "verify", result, EXAMPLE_POLICY, EXAMPLE_DATA, "--key", public)
    assert (code, err) == (0, "")
    assert out.endswith("(content hash, signature by " f"{public})\n")


def test_a_members_result_with_a_named_signature_file(capsys, tmp_path, keys):
    """With --members and --signature FILE: the signature goes there and verifies."""
    private, public = keys
    policy = ROOT / "policies" / "cum8-2022-councils.toml"
    data = ROOT / "examples" / "cum8-2022-councils" / "units.toml"
    members = ROOT / "examples" / "cum8-2022-councils" / "members.csv"
    result, signature = tmp_path / "r.json", tmp_path / "r.signature"
    code, out, _ = run(capsys, "evaluate", policy, data, "--members", members, "-o", result, "--format", "json",
                       "--sign-key", private, "--signature", signature)
    assert (code, out) == (0, f"signed: {signature}\n")
    assert not (tmp_path / "r.json.sig").exists()
    code, _, err = run(capsys, "verify", result, policy, data, "--members", members, "--key", public,
                       "--signature", signature)
    assert (code, err) == (0, "")


@pytest.mark.parametrize(("extra", "line"), [
    (["-o", "{tmp}/r.md"], "{key}: --sign-key signs a JSON result; give --format json (or -o RESULT.json), "
                           "not 'markdown'"),
    (["--format", "json"], "{key}: --sign-key needs -o RESULT.json: the result and its signature "
                           "(RESULT.json.sig) are written as files"),
    (["-o", "{tmp}/r.json", "--signature", "{tmp}/r.json"],
     "{tmp}/r.json: the signature needs a file of its own, not the result's"),
], ids=["markdown", "stdout", "same-file"])
def test_misuse_is_one_line_and_writes_nothing(capsys, tmp_path, keys, extra, line):
    """A format that is not JSON, no output file, or the signature over the result: exit 2."""
    private, _ = keys
    args = [a.format(tmp=tmp_path) for a in extra]
    code, out, err = run(capsys, "evaluate", EXAMPLE_POLICY, EXAMPLE_DATA, *args, "--sign-key", private)
    assert (code, out, err) == (2, "", line.format(key=private, tmp=tmp_path) + "\n")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_or_bad_key_is_one_line_before_any_work(capsys, tmp_path, keys):
    """A missing key, a public key, a file that is not PEM: one line naming the file, nothing written."""
    _, public = keys
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n", encoding="ascii")
    result = tmp_path / "r.json"
    for key, message in ((tmp_path / "none.pem", "file not found"),
                         (public, "not a PEM private key: "),
                         (junk, "not a PEM private key: ")):
        code, out, err = run(capsys, "evaluate", EXAMPLE_POLICY, EXAMPLE_DATA, "-o", result, "--sign-key", key)
        assert (code, out) == (2, "")
        assert err.startswith(f"{key}: {message}") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.pem"]


def test_a_signature_without_key_is_refused(capsys, tmp_path):
    """--signature alone would write nothing it names: one line, exit 2."""
    code, _, err = run(capsys, "evaluate", EXAMPLE_POLICY, EXAMPLE_DATA, "-o", tmp_path / "r.json",
                       "--signature", tmp_path / "r.sig")
    assert (code, err) == (2, f"{tmp_path}/r.sig: a signature file is written with --sign-key PRIVATE.pem; "
                              "give the key\n")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_both_files_as_they_were(capsys, tmp_path, keys, monkeypatch):
    """The pair is written together: if signing fails, neither the old result nor the old
    signature is replaced and no temporary file is left."""
    private, _ = keys
    result = tmp_path / "r.json"
    result.write_text("old result\n", encoding="utf-8")
    (tmp_path / "r.json.sig").write_text("old signature\n", encoding="utf-8")

    def broken(data, key):
        raise OSError(28, "No space left on device", str(tmp_path / "r.json.sig"))

    monkeypatch.setattr(signing, "signature_text", broken)
    code, _, err = run(capsys, "evaluate", EXAMPLE_POLICY, EXAMPLE_DATA, "-o", result, "--sign-key", private)
    assert (code, err) == (2, f"{tmp_path}/r.json.sig: No space left on device\n")
    assert result.read_text(encoding="utf-8") == "old result\n"
    assert (tmp_path / "r.json.sig").read_text(encoding="utf-8") == "old signature\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.json.sig"]
