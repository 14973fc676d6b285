"""Parts of a document that many units share: read-only dicts that remember their JSON text.

The document's unit entries are built with the parts equal to another unit's made once (a
criterion's outcome for the same inputs, a title outcome awards gave to every unit in the same
state, see :mod:`.document`): the same object stands in every entry that holds it. Such a part
is a :class:`Shared`: a dict (every reader of the document reads it as one, ``==`` a plain dict
with the same items) that cannot be changed in place, since a change would show in every unit
that holds it, and whose compact JSON text :mod:`.jsontext` makes the first time it writes it
and then reuses (compact JSON is compositional: a value's text does not depend on where it
sits).
"""

from __future__ import annotations

from typing import Any, NoReturn


class Shared(dict):  # type: ignore[type-arg]
    """A read-only dict held by many documents; ``text`` is its compact JSON once written."""

    __slots__ = ("text",)
    text: Any  #: its compact JSON (an ``orjson.Fragment``), set by :mod:`.jsontext` when first written

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a shared part of the document is read-only: copy it (dict(part)) to change it")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle rebuild it from its items (not item by item, which it refuses)
        return Shared, (dict(self),)
