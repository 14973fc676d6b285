"""The JSON-lines result (``--format jsonl``): one canonical JSON object per line, cluster by cluster.

Records, each a compact JSON object with sorted keys and a ``record`` field:

* ``header``: the first line, ``{"format": "thidua-result-lines/1", "record": "header"}``;
* ``cluster``: one per cluster, in cluster-id order, exactly the cluster entry of the JSON
  document (``id``, ``name``, ``year``, ``size``, ``ranking``, ``leadership``, ``council``);
* ``unit``: then that cluster's units in rank order, each the unit entry of the JSON document
  (with its ``explanation``, ``document._unit``), encoded by ``jsontext.compact``: the same
  entry, made by the same code, as the document's;
* ``person``: with a members file, then that cluster's members, each exactly an entry of the
  JSON document's ``people`` list;
* ``provenance``: the last line, the JSON document's ``provenance`` plus the number of
  ``clusters`` and ``units``. A streamed run only knows the data digest at the end, and a file
  without this line is incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..engine import ClusterResult, Result
from ..model import Policy
from ..people import people_document
from .document import _cluster, _unit, build_document, value
from .jsontext import compact, compact_bytes

LINES_FORMAT = "thidua-result-lines/1"
HEADER = compact({"format": LINES_FORMAT, "record": "header"}) + "\n"


def cluster_bytes(policy: Policy, cluster: ClusterResult) -> bytes:
    """The ``cluster`` record of one evaluated cluster, its ``unit`` records in rank order, then
    its ``person`` records (with a members file) in (unit, person id) order, as UTF-8 lines: the
    encoder's bytes joined, never decoded (the stream writes them as they are)."""
    counts = cluster.member_counts
    out = [compact_bytes({"record": "cluster", **_cluster(policy, cluster)})]
    out.extend([compact_bytes({"record": "unit", **_unit(policy, unit, counts.get(unit.id))})
                for unit in cluster.units])
    out.extend([compact_bytes({"record": "person", **entry}) for entry in people_document(cluster.people, value)])
    out.append(b"")
    return b"\n".join(out)


def cluster_lines(policy: Policy, cluster: ClusterResult) -> str:
    """:func:`cluster_bytes` as text ("surrogatepass": the standard library's text of an odd
    value may hold a lone surrogate, see jsontext)."""
    return cluster_bytes(policy, cluster).decode("utf-8", "surrogatepass")


def provenance_line(provenance: dict[str, Any], clusters: int, units: int) -> str:
    return compact({"record": "provenance", **provenance, "clusters": clusters, "units": units}) + "\n"


def provenance_of(result: Result) -> dict[str, Any]:
    """The provenance object of the JSON document for ``result`` (built without its units)."""
    doc: dict[str, Any] = build_document(attrs.evolve(result, clusters=()))
    return doc["provenance"]


def iter_jsonl(result: Result) -> Iterable[str]:
    """The JSON-lines text of an in-memory result, piece by piece."""
    yield HEADER
    units = 0
    for cluster in result.clusters:
        units += len(cluster.units)
        yield cluster_lines(result.policy, cluster)
    yield provenance_line(provenance_of(result), len(result.clusters), units)


def to_jsonl(result: Result) -> str:
    return "".join(iter_jsonl(result))
