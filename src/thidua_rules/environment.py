"""A unit's finished environment, held compactly: its values in a tuple, its names shared.

While a cluster is evaluated, each unit's environment (``UnitScore.env``: its inputs, ``year``,
its scores, rank and titles, what later rules read) is a dict that scoring, ranking and awards
fill. Once the cluster is decided nothing writes to it again, and every unit of a policy has
the same names in the same order; a dict per unit would hold the names again (a hash table of
some forty entries, about 830 bytes). :func:`freeze` turns it into a :class:`FrozenEnvironment`:
the values in one tuple, and a name → position table shared by every environment with those
names. It reads as the dict did: the same items in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: names in order → (the names, their positions): shared by the environments of that shape
Shapes = dict[tuple[str, ...], tuple[tuple[str, ...], dict[str, int]]]


class FrozenEnvironment(Mapping[str, Any]):
    """A read-only mapping with the items, and the order, of the environment it was made from."""

    __slots__ = ("_index", "_names", "_values")

    _names: tuple[str, ...]
    _index: dict[str, int]
    _values: tuple[Any, ...]

    def __getitem__(self, name: str) -> Any:
        return self._values[self._index[name]]

    def get(self, name: str, default: Any = None) -> Any:
        at = self._index.get(name)
        return default if at is None else self._values[at]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"FrozenEnvironment({dict(zip(self._names, self._values, strict=True))!r})"


_new = object.__new__


def freeze(env: Mapping[str, Any], shapes: Shapes) -> FrozenEnvironment:
    """``env`` as a :class:`FrozenEnvironment`, its names table looked up in (or added to)
    ``shapes``, which the caller keeps for as long as it makes environments of one policy."""
    names = tuple(env)
    shape = shapes.get(names)
    if shape is None:
        shape = shapes[names] = (names, {name: at for at, name in enumerate(names)})
    frozen = _new(FrozenEnvironment)
    frozen._names, frozen._index = shape
    frozen._values = tuple(env.values())
    return frozen
