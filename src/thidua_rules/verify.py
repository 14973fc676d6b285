"""`thidua verify`: re-evaluate and check that a JSON result, its provenance, its content hash and
(with a key) its signature all match; every difference is one finding line saying where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .errors import Issue, PolicyError

EXIT_OK = 0
EXIT_MISMATCH = 1


def _json_text(value: Any) -> str:
    """A value as JSON writes it, for a finding (compact; the line is bounded when printed)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # a lone surrogate (from a "\ud800" escape in a changed file) shown as its escape
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # json.loads would keep the last one silently
            raise _Duplicate(key)
        out[key] = value
    return out


def parse_result(file: str, data: bytes) -> tuple[Any, list[str]]:
    """The parsed document, or None and the finding: ``file:line:column: …`` where the bytes stop
    being UTF-8 or JSON (a repeated key is refused, since a reader would keep only one)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
        return None, [f"{file}:{line}:{column}: not UTF-8 text (byte {exc.start})"]
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates), []
    except json.JSONDecodeError as exc:
        return None, [f"{file}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg[:1].lower()}{exc.msg[1:]}"]
    except _Duplicate as exc:
        return None, [f"{file}: not a result: the key '{exc.key}' appears twice in one object"]
    except RecursionError:
        return None, [f"{file}: not a result: nested too deeply"]
    except ValueError as exc:  # e.g. an integer of more than 4300 digits: no result has one
        return None, [f"{file}: not a result: {str(exc).split(':')[0].lower()}"]


def _item(path: str, index: int, item: Any) -> str:
    from .loader.common import item_path

    return item_path(path, index, item)


def differences(found: Any, expected: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(key path, message)`` for every place where ``found`` differs from ``expected``, in the
    document's order (keys sorted, array items in order); the path is the project's key-path
    syntax, ``units[2](id=cuc-tbkv).total``."""
    from .tomlfmt import join_path

    if isinstance(found, dict) and isinstance(expected, dict):
        for key in sorted(set(found) | set(expected)):
            where = join_path(path, key)
            if key not in found:
                yield where, f"missing; re-evaluation gives {_json_text(expected[key])}"
            elif key not in expected:
                yield where, f"not in a result (re-evaluation has no such key); the result has {_json_text(found[key])}"
            else:
                yield from differences(found[key], expected[key], where)
        return
    if isinstance(found, list) and isinstance(expected, list):
        for i, (a, b) in enumerate(zip(found, expected, strict=False)):
            yield from differences(a, b, _item(path, i, b))
        if len(found) != len(expected):
            yield path, f"has {len(found)} items, re-evaluation gives {len(expected)}"
        return
    if type(found) is not type(expected) or found != expected:
        yield path or "(document)", f"the result has {_json_text(found)}, re-evaluation gives {_json_text(expected)}"


def self_check(file: str, data: bytes) -> list[str]:
    """Findings that need neither policy nor data: the bytes parse as a result and its
    ``provenance.content_sha256`` is the hash of the rest (empty: intact)."""
    doc, findings = parse_result(file, data)
    if findings:
        return findings
    return _hash_findings(file, doc)


def _hash_findings(file: str, doc: Any) -> list[str]:
    from .report.contenthash import FIELD, content_sha256

    provenance = doc.get("provenance") if isinstance(doc, dict) else None
    if not isinstance(provenance, dict):
        return [f"{file}: not a thidua result (no 'provenance' object)"]
    recorded = provenance.get(FIELD)
    if recorded is None:
        return [f"{file}: provenance.{FIELD}: missing (written by a version of thidua_rules without content "
                "hashes: evaluate again with --format json)"]
    actual = content_sha256(doc)
    if recorded != actual:
        return [f"{file}: provenance.{FIELD}: the result says {_json_text(recorded)}, its content hashes to "
                f"\"{actual}\" (the content or the hash changed)"]
    return []


#: The provenance entries checked one by one, with how the finding names what they come from.
_PROVENANCE = (
    (("policy", "sha256"), "the policy {policy} has {expected}"),
    (("data", "sha256"), "the data {data} has {expected}"),
    (("engine_version",), "this is thidua_rules {expected}"),
    (("plugins",), "this run loads {expected}"),
)


def verify(result_path: str, policy_path: str, data_path: str, *, members: str | None = None,
           data_format: str | None = None, key: str | None = None,
           signature: str | None = None) -> list[str]:
    """Every finding for ``result_path`` (empty: it matches), in this order: the signature (with
    ``key``), the file's own parse and content hash, the provenance digests, the first content
    difference, then a byte difference from the canonical text.

    :raises PolicyError: the policy, data, members, key or signature file cannot be used, or the
        result cannot be read (bad input, exit 2).
    """
    from .engine import evaluate
    from .loader import load_data, load_policy
    from .loader.common import DATA_MAX_BYTES, read_bytes
    from .report.writers import to_json

    data = read_bytes(result_path, result_path, limit=DATA_MAX_BYTES)
    findings: list[str] = []
    if key is not None:
        from .signing import check_signature, load_public_key

        public_key = load_public_key(key)
        problem = check_signature(data, signature or f"{result_path}.sig", public_key, key)
        if problem is not None:
            findings.append(problem)
    elif signature is not None:
        raise PolicyError([Issue(file=signature, message="a signature is checked with --key PUBLIC.pem; give the key")])
    policy = load_policy(policy_path)
    dataset = load_data(data_path, policy, format=data_format, members=members)
    expected_text = to_json(evaluate(policy, dataset))
    doc, parse_findings = parse_result(result_path, data)
    findings += parse_findings
    if doc is None:
        return findings
    findings += _hash_findings(result_path, doc)
    expected = json.loads(expected_text)
    found_provenance = doc.get("provenance") if isinstance(doc, dict) else None
    found_provenance = found_provenance if isinstance(found_provenance, dict) else {}
    for keys, said in _PROVENANCE:
        found_value: Any = found_provenance
        expected_value: Any = expected["provenance"]
        for k in keys:
            found_value = found_value.get(k) if isinstance(found_value, dict) else None
            expected_value = expected_value[k]
        if found_value != expected_value:
            where = "provenance." + ".".join(keys)
            what = said.format(policy=policy_path, data=data_path, expected=_json_text(expected_value))
            findings.append(f"{result_path}: {where}: the result has {_json_text(found_value)}, {what}")
    checked = {"provenance." + ".".join(keys) for keys, _ in _PROVENANCE}
    checked.add("provenance.content_sha256")  # follows the content: its own finding above
    rest = [(p, m) for p, m in differences(doc, expected)
            if not any(p == c or p.startswith((c + ".", c + "[")) for c in checked)]
    if rest:
        where, message = rest[0]
        more = f" ({len(rest) - 1} more difference{'s' if len(rest) > 2 else ''} after it)" if len(rest) > 1 else ""
        findings.append(f"{result_path}: {where}: {message}{more}")
    if not findings and data != expected_text.encode("utf-8"):
        findings.append(_layout_finding(result_path, data.decode("utf-8"), expected_text))
    return findings


def _layout_finding(file: str, text: str, expected: str) -> str:
    """The content is right but the text is not the one thidua writes (spacing, key order, escapes):
    where the first character differs."""
    offset = next((i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b),
                  min(len(text), len(expected)))
    line, column = _position(text, offset)
    return (f"{file}:{line}:{column}: the content matches but the text is not the JSON thidua writes "
            "(spacing, order or escapes changed here)")


def verify_command(args: Any, out: Any) -> int:
    """``thidua verify``: the findings on standard output, one a line; exit 1 if any, else one
    ``ok:`` line and exit 0."""
    findings = verify(args.result, args.policy, args.data, members=args.members, data_format=args.data_format,
                      key=args.key, signature=args.signature)
    if findings:
        from .errors import error_line

        for finding in findings:
            out.write(error_line(finding) + "\n")
        return EXIT_MISMATCH
    signed = f", signature by {args.key}" if args.key else ""
    out.write(f"ok: {args.result} matches {args.policy} on {args.data} (content hash{signed})\n")
    return EXIT_OK

