"""The data digest's canonical text of a cluster, written out: sorted keys, numbers as their
normalised text, strings escaped as JSON escapes them, units of any shape and clusters with or
without units and sections; and the digest of a small loaded file."""

from __future__ import annotations

import decimal
import hashlib
from decimal import Decimal
from types import MappingProxyType

from thidua_rules import parse_data, parse_policy
from thidua_rules.loader import digest
from thidua_rules.loader.digest import canonical_cluster_text, content_digest
from thidua_rules.model import Ballot, Cluster, Unit, frozen_mapping

ODD = {"a": Decimal("1.50"), "b": Decimal("-0"), "c": Decimal("15E-1"), "d": Decimal("1E+3"),
       "e": True, "f": "đ \"q\"\\\n\u2028", "g": Decimal("0.000"), "h": Decimal("-2.675"), "z": False}
UNITS = (
    Unit(id="u1", name="Đơn vị \"Ấp\"", cluster="c", values=MappingProxyType(ODD)),
    Unit(id="u2", name="B\t", cluster="c", values=MappingProxyType(dict(reversed(ODD.items())))),  # not sorted
    Unit(id="u3", name="C", cluster="c", values=MappingProxyType({"a": 1, "j": ("x", "ư"), "k": Decimal("7.0")})),
    Unit(id="u4", name="D", cluster="c", values=MappingProxyType({})),
)
ODD_TEXT = ('{"a":"1.5","b":"0","c":"1.5","d":"1000","e":true,"f":"đ \\"q\\"\\\\\\n\u2028","g":"0",'
            '"h":"-2.675","z":false}')
UNITS_TEXT = (f'{{"id":"u1","name":"Đơn vị \\"Ấp\\"","values":{ODD_TEXT}}},'
              f'{{"id":"u2","name":"B\\t","values":{ODD_TEXT}}},'
              '{"id":"u3","name":"C","values":{"a":1,"j":["x","ư"],"k":"7"}},'
              '{"id":"u4","name":"D","values":{}}')


def test_cluster_text_of_units_of_every_shape():
    """Numbers of every form, booleans, escaped strings, unsorted keys, an int, a tuple and no
    values at all, twice (the second time from the remembered texts and unit functions)."""
    cluster = Cluster(id="c", name="Cụm \"c\"", year=2024, units=UNITS)
    expected = ('{"ballots":[],"deputy":null,"history":[],"id":"c","leader":null,"name":"Cụm \\"c\\"",'
                f'"rotation":[],"units":[{UNITS_TEXT}],"year":2024}}')
    for _ in range(2):
        assert canonical_cluster_text(cluster) == expected
    # only the shape reaches the generated unit text functions: no key or value text
    made = [f for m in digest._TEXTS.values() for f in m.shapes.values()]
    assert made and all("đ" not in f.source and '"a"' not in f.source for f in made)
    with decimal.localcontext(decimal.Context(prec=3)):  # normalised under the context in force
        unit = Unit(id="u", name="U", cluster="c", values=MappingProxyType({"x": Decimal("1.2345")}))
        assert canonical_cluster_text(Cluster(id="c", name="C", year=1, units=(unit,))).endswith(
            '"units":[{"id":"u","name":"U","values":{"x":"1.23"}}],"year":1}')


def test_cluster_text_without_units_and_with_sections():
    """A cluster without units, with a leader, deputy and rotation; one with a ballot."""
    empty = Cluster(id="d", name="D", year=2024, units=(), leader="u1", deputy="đ", rotation=("u1", "u2"))
    assert canonical_cluster_text(empty) == ('{"ballots":[],"deputy":"đ","history":[],"id":"d","leader":"u1",'
                                             '"name":"D","rotation":["u1","u2"],"units":[],"year":2024}')
    voted = Cluster(id="e", name="E", year=2023, units=UNITS[:1],
                    ballots=(Ballot(title="t", voters=3, yes=frozen_mapping({"u1": 2})),))
    assert canonical_cluster_text(voted) == (
        '{"ballots":[{"title":"t","voters":3,"yes":{"u1":2}}],"deputy":null,"history":[],"id":"e",'
        f'"leader":null,"name":"E","rotation":[],"units":[{{"id":"u1","name":"Đơn vị \\"Ấp\\"","values":{ODD_TEXT}}}],'
        '"year":2023}')


POLICY = b"""
[policy]
id = "p"
name = "P"
year = 2024

[inputs]
done = { type = "integer", min = 0 }
rate = { type = "decimal" }
ok = { type = "boolean" }

[[criteria]]
id = "c"
name = "C"
points = 10
method = "formula"
formula = "done"
"""


def test_digest_of_a_loaded_file():
    """The digest is the SHA-256 of ``[`` + the clusters' texts joined by ``,`` + ``]``; the same
    units in another order, format and spelling of numbers give the same digest."""
    policy = parse_policy(POLICY, file="p.toml")
    csv_text = b"cluster,id,name,done,rate,ok\nk2,b,B,007,1.50,yes\nk1,a,\xc3\x82,3,-0,false\n"
    data = parse_data(csv_text, policy, file="u.csv", format="csv")
    text = ('[{"ballots":[],"deputy":null,"history":[],"id":"k1","leader":null,"name":"k1","rotation":[],'
            '"units":[{"id":"a","name":"Â","values":{"done":"3","ok":false,"rate":"0"}}],"year":2024},'
            '{"ballots":[],"deputy":null,"history":[],"id":"k2","leader":null,"name":"k2","rotation":[],'
            '"units":[{"id":"b","name":"B","values":{"done":"7","ok":true,"rate":"1.5"}}],"year":2024}]')
    assert data.sha256 == content_digest(data.clusters) == hashlib.sha256(text.encode()).hexdigest()
    jsonl = (b'{"cluster": "k1", "id": "a", "name": "\\u00c2", "ok": false, "rate": 0, "done": 3}\n'
             b'{"cluster": "k2", "id": "b", "name": "B", "done": 7, "rate": 1.5, "ok": true}\n')
    assert parse_data(jsonl, policy, file="u.jsonl", format="jsonl").sha256 == data.sha256
    assert content_digest(()) == hashlib.sha256(b"[]").hexdigest()
