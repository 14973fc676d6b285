"""Mutations of the shipped inputs: keys, types, extreme numbers, nesting and encodings, per format.

Every mutation draws its choices from a :class:`Chooser`, so the same code runs under hypothesis
(``DataChooser``: shrinkable, derandomized in CI) and under a plain seeded ``random.Random``
(``RandomChooser``: ``python -m tests.fuzz.explore`` for long hunts).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
import tomllib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import tomli_w

T = TypeVar("T")


class Chooser(Protocol):
    def choice(self, options: Sequence[T], label: str = "") -> T: ...

    def integer(self, low: int, high: int, label: str = "") -> int: ...


class RandomChooser:
    """Choices from a seeded :class:`random.Random` (exploration outside pytest)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T], label: str = "") -> T:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int, label: str = "") -> int:
        return self.rng.randint(low, high)


class DataChooser:
    """Choices drawn from hypothesis' ``st.data()``, so failing inputs shrink."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def choice(self, options: Sequence[T], label: str = "") -> T:
        return self.data.draw(self.st.sampled_from(list(options)), label=label or None)

    def integer(self, low: int, high: int, label: str = "") -> int:
        return self.data.draw(self.st.integers(low, high), label=label or None)


# Raw literals, written into the serialised text in place of a placeholder string, so that values no
# writer can produce (inf in JSON, a 5,000-digit integer, 1e-999999, 100,000 nested arrays) get in.
HUGE_DIGITS = "1" + "0" * 5000
EXTREME_TOML = ["0", "-1", "1e999", "-1e999", "inf", "-inf", "nan", "+nan", HUGE_DIGITS, "-" + HUGE_DIGITS,
                "1e-999999", "1e999999", "0.000000000000000000000000000001", "99999999999999999999",
                "9223372036854775808", "1_000_000", "0x10", "1.5", "-0.0", f'"{"x" * 100_000}"',
                '"1e999"', '"inf"', '"nan"', '"-1"']
EXTREME_JSON = ["0", "-1", "1e999", "-1e999", "Infinity", "-Infinity", "NaN", HUGE_DIGITS, "-" + HUGE_DIGITS,
                "1e-999999", "1e999999", "0.000000000000000000000000000001", "99999999999999999999",
                "1.5", "-0.0", f'"{"x" * 100_000}"', '"1e999"', '"inf"', '"NaN"', '"-1"', "1E400", "true", "null"]
EXTREME_CELLS = ["0", "-1", "1e999", "-1e999", "inf", "-inf", "nan", "NaN", "Infinity", HUGE_DIGITS, "1e-999999",
                 "1e999999", "0.000000000000000000000000000001", "99999999999999999999", "1.5", "-0.0", "",
                 " ", "x" * 100_000, "1,5", "１２", "٣", "true", "0x10", "=HYPERLINK(\"http://x\")",
                 "a\nb", "\x1b[31mred", "\x00", "tot\t", "Tốt"]
# Values of every other type (a placeholder-free replacement, written by the format's own writer).
OTHER_TYPES: list[Any] = ["x", "", 0, -1, 3, True, False, [], [1, 2], ["a"], {}, {"a": 1}, Decimal("1.5"),
                          "band == 1", "1/0", "tot", "members / 0", [{"id": "x"}], "a\nb", "\x1b[2J"]
DEPTHS = [2, 50, 500, 5000, 100_000]
CONTROL = [b"\x00", b"\x1b", b"\r", b"\x7f", b"\x0c", b"\xff", b"\xc3", b"\xe2\x80\xae", b"\r\n", b"\t"]
PLACEHOLDER = "@@fuzz-raw@@"

Path = tuple[Any, ...]


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every path into a parsed document (tables and arrays included), in document order."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _get(node: Any, path: Path) -> Any:
    for step in path:
        node = node[step]
    return node


def _set(node: Any, path: Path, value: Any) -> None:
    _get(node, path[:-1])[path[-1]] = value


def misspell(word: str, chooser: Chooser) -> str:
    """A plausible typo: a letter dropped, doubled, swapped or changed, an accent, upper case."""
    if not word:
        return "x"
    i = chooser.integer(0, len(word) - 1, "typo at")
    how = chooser.choice(["drop", "double", "swap", "change", "upper", "accent", "space", "suffix"], "typo")
    if how == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "upper":
        return word.upper()
    if how == "accent":
        return word[:i] + "ố" + word[i + 1:]
    if how == "space":
        return word + " "
    if how == "suffix":
        return word + "_x"
    return word[:i] + ("z" if word[i] != "z" else "q") + word[i + 1:]


def mutate_tree(doc: Any, chooser: Chooser, raw: Sequence[str]) -> tuple[Any, str | None]:
    """One structural mutation of a parsed document; returns (document, raw literal for PLACEHOLDER)."""
    paths = _paths(doc)
    if not paths:
        return doc, None
    path = chooser.choice(paths, "path")
    parent = _get(doc, path[:-1])
    kind = chooser.choice(["delete", "rename", "unknown_key", "other_type", "extreme", "nest", "duplicate_item"],
                          "mutation")
    if kind == "delete":
        del parent[path[-1]]
    elif kind == "rename" and isinstance(parent, dict):
        value = parent.pop(path[-1])
        parent[misspell(str(path[-1]), chooser)] = value
    elif kind == "unknown_key" and isinstance(parent, dict):
        parent[chooser.choice(["qouta", "extra", "id ", "Ghi chú", "points", "min", "when"], "key")] = 1
    elif kind == "other_type":
        _set(doc, path, chooser.choice(OTHER_TYPES, "value"))
    elif kind == "nest":
        depth = chooser.choice(DEPTHS, "depth")
        _set(doc, path, PLACEHOLDER)
        return doc, chooser.choice(["array", "table"], "nest kind") + f":{depth}"
    elif kind == "duplicate_item" and isinstance(parent, list):
        parent.append(parent[path[-1]])
    else:
        _set(doc, path, PLACEHOLDER)
        return doc, chooser.choice(raw, "literal")
    return doc, None


def _nested(spec: str, fmt: str) -> str:
    kind, depth = spec.split(":")
    n = int(depth)
    if kind == "array":
        return "[" * n + "1" + "]" * n
    if fmt == "toml":
        return "{ a = " * n + "1" + " }" * n
    return '{"a": ' * n + "1" + "}" * n


def _fill(text: str, raw: str | None, fmt: str) -> str:
    if raw is None:
        return text
    literal = _nested(raw, fmt) if raw.startswith(("array:", "table:")) else raw
    quoted = f'"{PLACEHOLDER}"'
    if quoted in text:
        return text.replace(quoted, literal, 1)
    # A placeholder used as a TOML table header or key cannot hold a literal: keep it as text.
    return text


def mutate_toml(text: str, chooser: Chooser) -> bytes:
    """A TOML file, parsed, mutated and written again (or damaged line by line)."""
    if chooser.choice([True, False, False, False], "line damage"):
        return damage_lines(text, chooser).encode("utf-8")
    doc = tomllib.loads(text, parse_float=Decimal)
    doc, raw = mutate_tree(doc, chooser, EXTREME_TOML)
    try:
        written = tomli_w.dumps(doc)
    except (TypeError, ValueError):  # e.g. a value tomli-w cannot write in that place
        return text.encode("utf-8")
    return _fill(written, raw, "toml").encode("utf-8")


def mutate_json(text: str, chooser: Chooser) -> bytes:
    doc = json.loads(text)
    doc, raw = mutate_tree(doc, chooser, EXTREME_JSON)
    written = json.dumps(doc, ensure_ascii=False, indent=1, default=str)
    return _fill(written, raw, "json").encode("utf-8")


def mutate_jsonl(text: str, chooser: Chooser) -> bytes:
    lines = text.splitlines()
    i = chooser.integer(0, len(lines) - 1, "line")
    how = chooser.choice(["tree", "tree", "delete", "duplicate", "blank", "garbage", "not_object"], "line mutation")
    if how == "tree":
        doc, raw = mutate_tree(json.loads(lines[i]), chooser, EXTREME_JSON)
        lines[i] = _fill(json.dumps(doc, ensure_ascii=False, default=str), raw, "json")
    elif how == "delete":
        del lines[i]
    elif how == "duplicate":
        lines.insert(i, lines[i])
    elif how == "blank":
        lines.insert(i, "")
    elif how == "garbage":
        lines[i] = lines[i][: chooser.integer(0, len(lines[i]), "cut")]
    else:
        lines[i] = chooser.choice(["[1, 2]", "1", '"x"', "null", "{}", _nested("array:100000", "json")], "line")
    return ("\n".join(lines) + "\n").encode("utf-8")


def mutate_csv(text: str, chooser: Chooser) -> bytes:
    rows = list(csv.reader(io.StringIO(text)))
    how = chooser.choice(["cell", "cell", "cell", "header_rename", "header_drop", "header_duplicate",
                          "short_row", "long_row", "delete_row", "empty_row", "duplicate_row", "quote"],
                         "csv mutation")
    r = chooser.integer(1, len(rows) - 1, "row") if len(rows) > 1 else 0
    c = chooser.integer(0, len(rows[0]) - 1, "column")
    if how == "cell":
        rows[r][c] = chooser.choice([*EXTREME_CELLS, misspell(rows[r][c], chooser)], "cell")
    elif how == "header_rename":
        rows[0][c] = misspell(rows[0][c], chooser)
    elif how == "header_drop":
        for row in rows:
            del row[c : c + 1]
    elif how == "header_duplicate":
        rows[0][c] = rows[0][(c + 1) % len(rows[0])]
    elif how == "short_row":
        rows[r] = rows[r][:c]
    elif how == "long_row":
        rows[r] = [*rows[r], "x", ""]
    elif how == "delete_row":
        del rows[r]
    elif how == "empty_row":
        rows.insert(r, [""] * len(rows[0]))
    elif how == "duplicate_row":
        rows.insert(r, list(rows[r]))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    written = out.getvalue()
    if how == "quote":
        cut = chooser.integer(0, len(written) - 1, "quote at")
        written = written[:cut] + '"' + written[cut:]
    return written.encode("utf-8")


def damage_lines(text: str, chooser: Chooser) -> str:
    """Line damage (what tests/test_fuzz.py did): delete a line, a value of another type, a swap."""
    lines = text.splitlines() or [""]
    for _ in range(chooser.integer(1, 3, "line damages")):
        i = chooser.integer(0, len(lines) - 1, "line")
        how = chooser.choice(["delete", "value", "swap"], "line damage kind")
        if how == "delete" and len(lines) > 1:
            del lines[i]
        elif how == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=")[0] + "= " + chooser.choice(
                ["0", "-1", '"x"', "true", "[1, 2]", "{ a = 1 }", "1.5", "99999999999999999999", '"tot"', "[]",
                 '"band == 1"', '"1/0"', '""', '"members / 0"', "1e999", "inf", "nan"], "value")
        else:
            j = chooser.integer(0, len(lines) - 1, "swap with")
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


def mutate_encoding(data: bytes, chooser: Chooser) -> bytes:
    """Byte-level damage: a BOM, another encoding, truncation, NUL and control bytes."""
    how = chooser.choice(["bom", "latin1", "utf16", "utf16_bom", "cp1258", "truncate", "insert", "insert",
                          "crlf", "empty"], "encoding")
    text = data.decode("utf-8", errors="replace")
    if how == "bom":
        return codecs.BOM_UTF8 + data
    if how == "latin1":
        return text.encode("latin-1", errors="replace")
    if how == "utf16":
        return text.encode("utf-16-le")
    if how == "utf16_bom":
        return text.encode("utf-16")
    if how == "cp1258":
        return text.encode("cp1258", errors="replace")
    if how == "truncate":
        return data[: chooser.integer(0, max(0, len(data) - 1), "truncate at")]
    if how == "crlf":
        return data.replace(b"\n", b"\r\n")
    if how == "empty":
        return b""
    at = chooser.integer(0, len(data), "insert at")
    return data[:at] + chooser.choice(CONTROL, "byte") + data[at:]


MUTATORS: dict[str, Callable[[str, Chooser], bytes]] = {
    "toml": mutate_toml, "json": mutate_json, "jsonl": mutate_jsonl, "csv": mutate_csv,
}


def mutate(data: bytes, fmt: str, chooser: Chooser) -> bytes:
    """One to three mutations of a file in format ``fmt``; one in five also damages the bytes."""
    text = data.decode("utf-8")
    for _ in range(chooser.integer(1, 2, "rounds")):
        try:
            text = MUTATORS[fmt](text, chooser).decode("utf-8")
        except (ValueError, RecursionError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            break  # an earlier round left text this format's parser refuses: stop structural rounds
    out = text.encode("utf-8")
    if chooser.choice([False, False, False, False, True], "damage bytes"):
        out = mutate_encoding(out, chooser)
    return out
