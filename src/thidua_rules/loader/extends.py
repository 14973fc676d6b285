"""``[policy] extends``: a policy built on other policy files (a catalogue, a shared table).

``extends = ["catalogue/law2022.toml"]`` names base files relative to the extending file;
``thidua:catalogue/law2022.toml`` names a file of the catalogue installed with the package
(``src/thidua_rules/catalogue``), so that a policy anywhere can build on it. Where bases may be:
in the folder of the policy being loaded or below it (after following symbolic links), in the
packaged catalogue, or in a folder listed in the ``THIDUA_POLICY_PATH`` environment variable
(folders separated as in ``PATH``); any other file (``../../x.toml``, an absolute path elsewhere)
is refused, so that a policy received from someone cannot make the engine read files outside
its own folder. A base must be a regular file of at most 10 MiB (no folder, device, named pipe
or symbolic link loop). The bases are applied in order (a later base overrides an earlier one),
each base may extend others, and the extending file is applied last. Merge rules, table by table:

* ``[policy]`` is the extending file's own; of a base's ``[policy]`` only ``plugins`` counts
  (the sorted union of every file's plugins).
* Plain tables (``inputs``, ``scoring``, ``ranking``, ``leadership``, ``plugin``) merge key by
  key; the extending file wins, and a key's value is replaced whole.
* Arrays of tables with ids (``checks``, ``groups``, ``criteria``, ``bonuses``, ``deductions``,
  ``bands``, ``titles``) merge by id: an entry with a base entry's id overrides it key by key in
  the base's position; ``{ id = "x", remove = true }`` removes it; new ids are appended in order.

The result is the plain TOML dict the policy compiler reads, with ``extends`` taken out, and a
digest covering every file: the single-file digest stays the SHA-256 of the file's bytes, and an
extending policy's digest is the SHA-256 of ``"<sha256>  <name>\\n"`` lines (``sha256sum``'s
format), one per file, sorted by name, names relative to the extending file's folder (a
packaged base is named ``thidua:catalogue/…`` wherever the package is installed). Every
problem of every file is collected, then raised as one :class:`PolicyError`.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

import attrs

from ..errors import Issue, PolicyError, did_you_mean
from ..extensions import type_name
from .common import POLICY_MAX_BYTES, Unreadable, item_path, parse_toml, read_regular, sha256, unreadable_message
from .lawversions import VersionPicker

#: ``thidua:catalogue/law2022.toml``: a file of the catalogue shipped inside the package.
PACKAGE_PREFIX = "thidua:"
#: The installed package's folder; ``thidua:NAME`` is NAME inside it (only ``catalogue/…``).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = PACKAGE_ROOT / "catalogue"
#: Folders (separated by ``os.pathsep``) whose files any policy may extend.
POLICY_PATH_ENV = "THIDUA_POLICY_PATH"

PLAIN_TABLES = ("inputs", "scoring", "ranking", "leadership", "plugin")
ID_ARRAYS = ("checks", "groups", "criteria", "bonuses", "deductions", "bands", "titles")


@attrs.frozen
class Source:
    """One policy file: where it is, how it is shown, and its name in the digest."""

    path: Path | None    # on disk; None for bytes handed to parse_policy without a path
    display: str         # as errors show it
    name: str            # relative to the extending file's folder (or absolute)
    entry: str = ""      # as the ``extends`` entry spells it


def resolve(data: bytes, *, file: str, path: str | Path | None) -> tuple[dict[str, Any], str]:
    """The merged policy and its digest (see :func:`resolve_with_origins`)."""
    merged, digest, _ = resolve_with_origins(data, file=file, path=path)
    return merged, digest


#: (section, id) → the files whose own text defines or changes that entry, deepest base first.
Origins = dict[tuple[str, str], list[str]]


def resolve_with_origins(data: bytes, *, file: str,
                         path: str | Path | None) -> tuple[dict[str, Any], str, Origins]:
    """The policy's TOML with its bases merged in, and the digest of every file it reads.

    :param data: The bytes of the policy itself.
    :param file: How errors name the policy.
    :param path: Where it is on disk, to resolve relative ``extends`` paths; ``None`` allows only
        absolute ones.
    :returns: ``(merged table, sha256 hex digest)``.
    :raises PolicyError: with every problem found in the policy and its bases.
    """
    raw = parse_toml(data, file)
    meta = raw.get("policy")
    picker = VersionPicker(file, raw)
    if not isinstance(meta, dict) or "extends" not in meta:
        picker.note_pins(raw, file, Path(path).name if path is not None else posixpath.basename(file))
        raw = picker.apply(raw, file)
        picker.finish()
        if picker.issues:
            raise PolicyError(picker.issues)
        return raw, sha256(data), {}
    root = Source(Path(path) if path is not None else None, file,
                  Path(path).name if path is not None else posixpath.basename(file))
    resolver = _Resolver(_allowed_roots(root.path), picker)
    merged = resolver.expand(root, raw, data, chain=())
    if not resolver.issues:
        picker.finish()
    issues = [*resolver.issues, *(i for i in picker.issues if i not in resolver.issues)]
    if issues:
        raise PolicyError(issues)
    manifest = "".join(f"{digest}  {name}\n" for name, digest in sorted(resolver.digests.items()))
    return merged, sha256(manifest.encode("utf-8")), resolver.origins


def _real(path: Path) -> Path:
    """``path`` with symbolic links followed as far as they go (a loop is left to the read)."""
    return Path(os.path.realpath(path))


def _allowed_roots(policy: Path | None) -> tuple[Path, ...]:
    """The folders bases may be in: the policy's own, the packaged catalogue, THIDUA_POLICY_PATH's."""
    roots = [_real(CATALOGUE)]
    if policy is not None:
        roots.append(_real(policy).parent)
    listed = os.environ.get(POLICY_PATH_ENV, "")
    roots += [_real(Path(folder)) for folder in listed.split(os.pathsep) if folder]
    return tuple(roots)


class _Resolver:
    def __init__(self, roots: tuple[Path, ...], picker: VersionPicker) -> None:
        self.roots = roots
        self.picker = picker
        self.issues: list[Issue] = []
        self.digests: dict[str, str] = {}
        self.expanded: dict[Path, dict[str, Any]] = {}   # a base reached twice is read once
        self.origins: Origins = {}
        self.recording = False   # True while a file's own text is merged in

    def add(self, file: str, path: str, message: str) -> None:
        issue = Issue(file=file, path=path, message=message)
        if issue not in self.issues:   # a base reached twice is merged twice, reported once
            self.issues.append(issue)

    def expand(self, source: Source, raw: dict[str, Any], data: bytes,
               chain: tuple[Source, ...]) -> dict[str, Any]:
        """``raw`` with its own bases merged under it."""
        self.digests[source.name] = sha256(data)
        self.picker.note_pins(raw, source.display, source.name)
        chain = (*chain, source)
        merged: dict[str, Any] = {}
        for i, base in enumerate(self.bases(source, raw)):
            where = f"policy.extends[{i}]"
            if isinstance(base, str):
                self.add(source.display, where, base)
                continue
            assert base.path is not None  # only the extending file itself may lack a path
            key = _real(base.path)
            if not any(key.is_relative_to(root) for root in self.roots):
                self.add(source.display, where, f"'{base.entry}' is outside the policy's folder: a base must be "
                         f"in that folder or below it, in the packaged catalogue ('{PACKAGE_PREFIX}catalogue/…') "
                         f"or in a folder listed in {POLICY_PATH_ENV}")
                continue
            if any(s.path is not None and _real(s.path) == key for s in chain):
                names = " → ".join(s.display for s in (*chain, base))
                self.add(source.display, where, f"extends cycle: {names}")
                continue
            if key in self.expanded:
                merged = self.merge(merged, self.expanded[key], base, base_file=True)
                continue
            loaded = self.read(source, where, base)
            if loaded is None:
                continue
            base_raw, base_data = loaded
            expanded = self.expand(base, base_raw, base_data, chain)
            self.expanded[key] = expanded
            merged = self.merge(merged, expanded, base, base_file=True)
        own = self.picker.apply(raw, source.display)
        if isinstance(own.get("policy"), dict):
            own["policy"] = {k: v for k, v in own["policy"].items() if k != "extends"}
        self.recording = True
        try:
            return self.merge(merged, own, source, base_file=False)
        finally:
            self.recording = False

    def bases(self, source: Source, raw: dict[str, Any]) -> list[Source | str]:
        """The files ``[policy] extends`` names, or what is wrong with an entry (in order)."""
        meta = raw.get("policy")
        if not isinstance(meta, dict) or "extends" not in meta:
            return []
        entries = meta["extends"]
        if not isinstance(entries, list):
            self.add(source.display, "policy.extends",
                     f"expected an array of file paths, got {type_name(entries)}")
            return []
        found: list[Source | str] = []
        for entry in entries:
            if not isinstance(entry, str) or not entry:
                found.append(f"expected a file path, got {type_name(entry)}")
            elif entry.startswith(PACKAGE_PREFIX):
                found.append(_packaged(entry))
            elif posixpath.isabs(entry) or Path(entry).is_absolute():
                found.append(Source(Path(entry), entry, entry, entry))
            elif source.path is None:
                found.append(f"cannot resolve '{entry}' without the policy's own path; "
                             f"load the policy from its file, or name a packaged base ('{PACKAGE_PREFIX}catalogue/…') "
                             f"or an absolute path in a folder listed in {POLICY_PATH_ENV}")
            else:
                found.append(Source(
                    source.path.parent / entry,
                    posixpath.normpath(posixpath.join(posixpath.dirname(source.display), entry)),
                    posixpath.normpath(posixpath.join(posixpath.dirname(source.name), entry)),
                    entry,
                ))
        return found

    def read(self, source: Source, where: str, base: Source) -> tuple[dict[str, Any], bytes] | None:
        assert base.path is not None
        try:
            data = read_regular(base.path, POLICY_MAX_BYTES)
        except Unreadable as exc:
            nearby = self.nearby(base) if exc.kind == "missing" else ""
            self.add(source.display, where, unreadable_message(exc, base.display) + nearby)
            return None
        try:
            raw = parse_toml(data, base.display)
        except PolicyError as exc:
            for issue in exc.issues:
                self.add(source.display, where, issue.format())
            return None
        return raw, data

    @staticmethod
    def nearby(base: Source) -> str:
        """A "did you mean" over the TOML files beside the missing one, spelt as ``extends`` is."""
        assert base.path is not None
        folder = base.path.parent
        if not folder.is_dir():
            return ""
        prefix = posixpath.dirname(base.entry)
        return did_you_mean(base.entry, [posixpath.join(prefix, p.name) for p in folder.glob("*.toml")])

    def merge(self, base: dict[str, Any], child: dict[str, Any], origin: Source, *,
              base_file: bool) -> dict[str, Any]:
        """``child`` laid over ``base``.

        With ``base_file``, ``child`` is a base's expanded content: a section of the wrong shape
        is reported against that base and left out. Otherwise it is the extending file's own
        content, and the compiler reports wrong shapes at their usual key paths.
        """
        merged = dict(base)
        for key, value in child.items():
            if key == "policy":
                policy = self.merge_policy(base.get("policy", {}), value, origin, base_file=base_file)
                if policy is not None:
                    merged["policy"] = policy
            elif key in PLAIN_TABLES and isinstance(value, dict):
                merged[key] = {**base.get(key, {}), **value}
            elif key in ID_ARRAYS and _table_list(value):
                merged[key] = self.merge_items(key, base.get(key, []), value, origin)
            elif key == "people" and isinstance(value, dict) and isinstance(base.get("people", {}), dict):
                # [people] merges like the top level: inputs key by key, titles by id.
                if base_file and "titles" in value and not _table_list(value["titles"]):
                    # a base's people.titles of the wrong shape is reported against that base and
                    # left out, as a base's [[titles]] is (merging by id needs tables)
                    self.add(origin.display, "people.titles",
                             f"expected an array of tables, got {type_name(value['titles'])}")
                    value = {k: v for k, v in value.items() if k != "titles"}
                people = {**base.get("people", {}), **value}
                if isinstance(value.get("inputs"), dict):
                    people["inputs"] = {**base.get("people", {}).get("inputs", {}), **value["inputs"]}
                if _table_list(value.get("titles")):
                    people["titles"] = self.merge_items("people.titles", base.get("people", {}).get("titles", []),
                                                        value["titles"], origin)
                merged["people"] = people
            elif base_file and key in (*PLAIN_TABLES, *ID_ARRAYS):
                wanted = "a table" if key in PLAIN_TABLES else "an array of tables"
                self.add(origin.display, key, f"expected {wanted}, got {type_name(value)}")
            else:
                merged[key] = value
        return merged

    def merge_policy(self, base: dict[str, Any], child: Any, origin: Source, *,
                     base_file: bool) -> Any:
        """The extending file's own ``[policy]``, with the sorted union of every file's plugins."""
        if not isinstance(child, dict):
            if base_file:
                self.add(origin.display, "policy", f"expected a table, got {type_name(child)}")
                return None
            return child
        plugins = child.get("plugins", [])
        if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
            if base_file:
                self.add(origin.display, "policy.plugins",
                         f"expected an array of strings, got {type_name(plugins)}")
                return None
            return child
        # A base's [policy] lends only its plugins; its id, name and year stay its own.
        merged = {} if base_file else dict(child)
        union = sorted({*base.get("plugins", []), *plugins})
        if union:
            merged["plugins"] = union
        return merged

    def merge_items(self, section: str, base: list[dict[str, Any]], child: list[dict[str, Any]],
                    origin: Source) -> list[dict[str, Any]]:
        merged = [dict(item) for item in base]
        positions = {item["id"]: n for n, item in enumerate(merged) if isinstance(item.get("id"), str)}
        removed: set[int] = set()
        seen: set[str] = set()
        for i, item in enumerate(child):
            item_id = item.get("id")
            path = item_path(section, i, item)
            if "remove" in item:
                self.removal(section, path, item, positions, removed, origin)
                continue
            if not isinstance(item_id, str) or item_id in seen or item_id not in positions:
                merged.append(dict(item))   # a new id, or a duplicate the compiler will report
            else:
                n = positions[item_id]
                merged[n] = {**merged[n], **item}
            if isinstance(item_id, str):
                seen.add(item_id)
                if self.recording:
                    files = self.origins.setdefault((section, item_id), [])
                    if origin.display not in files:
                        files.append(origin.display)
        return [item for n, item in enumerate(merged) if n not in removed]

    def removal(self, section: str, path: str, item: dict[str, Any], positions: dict[str, int],
                removed: set[int], origin: Source) -> None:
        item_id = item.get("id")
        if item["remove"] is not True:
            self.add(origin.display, f"{path}.remove",
                     f"expected true (to remove the base's entry), got {_show(item['remove'])}")
            return
        extra = sorted(set(item) - {"id", "remove"})
        if extra:
            self.add(origin.display, f"{path}.{extra[0]}",
                     "an entry with 'remove = true' takes only 'id'")
            return
        if not isinstance(item_id, str):
            self.add(origin.display, path, "an entry with 'remove = true' needs the 'id' to remove")
            return
        if item_id not in positions or positions[item_id] in removed:
            self.add(origin.display, f"{path}.id", f"cannot remove '{item_id}': no such id in the "
                     f"bases' {section}{did_you_mean(item_id, positions)}")
            return
        removed.add(positions[item_id])


def _packaged(entry: str) -> Source | str:
    """``thidua:catalogue/NAME``: the packaged file, named the same wherever it is installed."""
    name = posixpath.normpath(entry[len(PACKAGE_PREFIX):])
    if not name.startswith("catalogue/") or name.startswith("/"):
        shipped = ", ".join(f"'{PACKAGE_PREFIX}catalogue/{p.name}'" for p in sorted(CATALOGUE.glob("*.toml")))
        return f"'{entry}' is not in the packaged catalogue; it has {shipped}"
    shown = PACKAGE_PREFIX + name
    return Source(PACKAGE_ROOT / name, shown, shown, shown)


def _table_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _show(value: Any) -> str:
    from ..tomlfmt import toml_value

    return toml_value(value)
