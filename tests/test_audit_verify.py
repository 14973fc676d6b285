"""`thidua verify`, `sign` and `keygen`: a result is re-evaluated and its hashes and signature checked;
a single changed byte anywhere is found and said with its place."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from thidua_rules import render
from thidua_rules.cli import main
from thidua_rules.report.contenthash import content_sha256
from thidua_rules.verify import verify

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY

pytest.importorskip("cryptography")  # the optional `sign` extra, installed by the `test` extra

#: How many byte positions of the result are changed, spread evenly from the first to the last.
POSITIONS = 50


@pytest.fixture
def result_file(tmp_path, example_result):
    path = tmp_path / "result.json"
    path.write_text(render(example_result, "json"), encoding="utf-8", newline="\n")
    return path


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


def positions(size: int) -> list[int]:
    """``POSITIONS`` offsets from 0 to ``size - 1``, evenly spread (the same every run)."""
    return sorted({round(i * (size - 1) / (POSITIONS - 1)) for i in range(POSITIONS)})


def test_content_hash_is_sha256_of_compact_json_without_itself(example_result):
    """provenance.content_sha256 is the SHA-256 of the sorted, compact UTF-8 JSON of the rest."""
    doc = json.loads(render(example_result, "json"))
    recorded = doc["provenance"].pop("content_sha256")
    body = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    assert recorded == hashlib.sha256(body).hexdigest() == content_sha256(doc)


def test_an_intact_result_verifies(capsys, result_file):
    """The result evaluate wrote matches its policy and data: one ok line, exit 0."""
    code, out, err = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    assert (code, err) == (0, "")
    assert out == f"ok: {result_file} matches {EXAMPLE_POLICY} on {EXAMPLE_DATA} (content hash)\n"


def test_every_sampled_single_byte_change_is_found(result_file):
    """Changing any one of 50 bytes spread over the file makes verify report a mismatch."""
    original = result_file.read_bytes()
    for offset in positions(len(original)):
        changed = bytearray(original)
        changed[offset] ^= 0x01
        result_file.write_bytes(bytes(changed))
        findings = verify(str(result_file), str(EXAMPLE_POLICY), str(EXAMPLE_DATA))
        assert findings, f"byte {offset} changed and not found"
        assert all(f.startswith(str(result_file)) for f in findings)


def test_every_sampled_single_byte_change_breaks_the_signature(capsys, result_file, keys):
    """With a signature, each of the same 50 changes is also found by the signature check, first."""
    private, public = keys
    signature = result_file.parent / "result.sig"
    assert run(capsys, "sign", result_file, "--key", private, "-o", signature) == (0, f"signed: {signature}\n", "")
    assert verify(str(result_file), str(EXAMPLE_POLICY), str(EXAMPLE_DATA), key=str(public),
                  signature=str(signature)) == []
    original = result_file.read_bytes()
    for offset in positions(len(original)):
        changed = bytearray(original)
        changed[offset] ^= 0x01
        result_file.write_bytes(bytes(changed))
        findings = verify(str(result_file), str(EXAMPLE_POLICY), str(EXAMPLE_DATA), key=str(public),
                          signature=str(signature))
        assert findings[0] == f"{signature}: the signature does not match the result's bytes " \
                              "(the file or the signature changed)", offset


def test_a_changed_value_is_found_by_its_path(capsys, result_file):
    """A total edited by hand (its first place in the file): the content hash and the key path, exit 1."""
    text = result_file.read_text(encoding="utf-8")
    result_file.write_text(text.replace('"total": "102.00"', '"total": "103.00"', 1), encoding="utf-8")
    code, out, err = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    lines = out.splitlines()
    assert (code, err, len(lines)) == (1, "", 2)
    assert lines[0].startswith(f"{result_file}: provenance.content_sha256: the result says ")
    assert lines[1] == f'{result_file}: units[0](id=cuc-cntt).explanation.total.total: the result has "103.00", re-evaluation gives "102.00"'


def test_an_unparsable_result_is_said_with_line_and_column(capsys, result_file):
    """A removed comma: the line and column where the JSON stops, exit 1."""
    lines = result_file.read_text(encoding="utf-8").split("\n")
    first = next(i for i, line in enumerate(lines) if line.endswith(","))
    lines[first] = lines[first].rstrip(",")
    result_file.write_text("\n".join(lines), encoding="utf-8")
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    column = len(lines[first + 1]) - len(lines[first + 1].lstrip()) + 1
    assert (code, out) == (1, f"{result_file}:{first + 2}:{column}: not valid JSON: expecting ',' delimiter\n")


def test_the_same_content_in_another_layout_is_a_mismatch(capsys, result_file):
    """Re-indented JSON keeps its content hash but is not the file thidua wrote: said at its place."""
    doc = json.loads(result_file.read_text(encoding="utf-8"))
    result_file.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=4) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    assert (code, out) == (1, f"{result_file}:2:3: the content matches but the text is not the JSON thidua "
                              "writes (spacing, order or escapes changed here)\n")


def test_provenance_digests_are_checked_one_by_one(capsys, result_file, tmp_path, monkeypatch):
    """Other data: the data digest differs (one line), and so does the content."""
    monkeypatch.chdir(tmp_path)  # short names: a finding line is bounded (errors.MAX_LINE)
    data, result_file = "units.toml", result_file.name
    (tmp_path / data).write_text(EXAMPLE_DATA.read_text(encoding="utf-8").replace(
        "advisory_adopted = 9", "advisory_adopted = 8", 1), encoding="utf-8")
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, data)
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f"{result_file}: provenance.data.sha256: the result has \"55bfba5f")
    assert f", the data {data} has \"" in lines[0]
    assert lines[1:] == [f'{result_file}: units[0](id=cuc-cntt).explanation.criteria[2](id=tham_muu).facts.value: '
                         'the result has "9", re-evaluation gives "8" (1 more difference after it)']


def test_a_result_without_content_hash_is_a_mismatch(capsys, result_file):
    """A result from before content hashes: the missing field is the one finding."""
    doc = json.loads(result_file.read_text(encoding="utf-8"))
    del doc["provenance"]["content_sha256"]
    result_file.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    assert code == 1
    assert out == (f"{result_file}: provenance.content_sha256: missing (written by a version of thidua_rules "
                   "without content hashes: evaluate again with --format json)\n")


def test_bad_inputs_exit_2(capsys, result_file, tmp_path, keys):
    """A missing result, a missing signature, a signature without key: one line each, exit 2."""
    _, public = keys
    missing = tmp_path / "none.json"
    assert run(capsys, "verify", missing, EXAMPLE_POLICY, EXAMPLE_DATA) == (2, "", f"{missing}: file not found\n")
    code, out, err = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA, "--key", public)
    assert (code, out, err) == (2, "", f"{result_file}.sig: file not found\n")
    code, _, err = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA, "--signature", "x.sig")
    assert (code, err) == (2, "x.sig: a signature is checked with --key PUBLIC.pem; give the key\n")


def test_signature_by_another_key_is_named(capsys, result_file, keys, tmp_path, monkeypatch):
    """A signature made with another key says which key made it."""
    monkeypatch.chdir(tmp_path)  # short names: a finding line is bounded (errors.MAX_LINE)
    private, _ = keys
    other, other_public, result_file = "o.pem", "o.pub.pem", result_file.name
    assert main(["keygen", str(other), str(other_public)]) == 0
    assert run(capsys, "sign", result_file, "--key", private)[0] == 0
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA, "--key", other_public)
    assert code == 1
    assert out.startswith(f"{result_file}.sig: made with the key sha256:")
    assert f", not with {other_public} (sha256:" in out


def test_signatures_are_deterministic_and_refuse_a_tampered_result(capsys, result_file, keys, tmp_path):
    """Signing twice gives the same file; a result whose content hash fails is not signed (exit 2)."""
    private, _ = keys
    first, second = tmp_path / "1.sig", tmp_path / "2.sig"
    run(capsys, "sign", result_file, "--key", private, "-o", first)
    run(capsys, "sign", result_file, "--key", private, "-o", second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text(encoding="ascii").startswith("thidua-signature/1\nalgorithm ed25519\nkey sha256:")
    text = result_file.read_text(encoding="utf-8")
    result_file.write_text(text.replace('"102.00"', '"103.00"', 1), encoding="utf-8")
    code, _, err = run(capsys, "sign", result_file, "--key", private, "-o", tmp_path / "3.sig")
    assert code == 2
    assert err.startswith(f"{result_file}: provenance.content_sha256: the result says")
    assert err.endswith("(the content or the hash changed); not signed\n")
    assert not (tmp_path / "3.sig").exists()


def test_keygen_never_overwrites_and_keeps_the_private_key_private(capsys, tmp_path, keys, result_file):
    """The private key is mode 0600; an existing file is refused, exit 2; verify wants the public key."""
    private, _ = keys
    assert os.stat(private).st_mode & 0o777 == 0o600
    before = private.read_bytes()
    code, _, err = run(capsys, "keygen", private, tmp_path / "new.pub.pem")
    assert (code, err) == (2, f"{private}: already exists; a key is never overwritten: give another name or "
                              "remove the file\n")
    assert private.read_bytes() == before
    assert not (tmp_path / "new.pub.pem").exists()
    code, _, err = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA, "--key", private)
    assert (code, err) == (2, f"{private}: this is a private key; verify with the public key (thidua keygen "
                              "wrote it beside the private one)\n")


def test_values_no_result_holds_are_findings_not_tracebacks(capsys, result_file):
    """A 5000-digit number or a lone surrogate escape in a changed file: exit 1, one line each."""
    original = result_file.read_bytes()
    result_file.write_bytes(original.replace(b'"102.00"', b"1" + b"0" * 5000, 1))
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    assert (code, out) == (1, f"{result_file}: not a result: exceeds the limit (4300 digits) for integer "
                              "string conversion\n")
    result_file.write_bytes(original.replace('"Cục Công'.encode(), b'"\\ud800 C\\u00f4ng', 1))
    code, out, _ = run(capsys, "verify", result_file, EXAMPLE_POLICY, EXAMPLE_DATA)
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[1] == (f'{result_file}: units[0](id=cuc-cntt).name: the result has "\\ud800 Công nghệ thông tin", '
                        're-evaluation gives "Cục Công nghệ thông tin"')
