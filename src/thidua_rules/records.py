"""Fast construction of the frozen attrs records made per unit (results, loaded units)."""

from __future__ import annotations

from typing import Any

import attrs


def fast_init(cls: type) -> Any:
    """A positional constructor for a frozen, slotted attrs class without validators, converters
    or hooks: ``fast_init(C)(a, b, …)`` is an instance equal in every field to ``C(x=a, y=b, …)``
    (every field given, in declaration order), still frozen. Worth it only for the classes made
    per unit.

    A class declared without a weakref slot (``weakref_slot=False``) directly on ``object`` gets
    a plain slotted twin with the same slots, so the same memory layout: the instance is made as
    a twin, its slots set by ordinary attribute stores (the fastest way CPython has), and then
    given its class (``__class__`` assignment, which CPython allows between heap types of the
    same layout and checks). Otherwise the slots are set through the class's slot descriptors.
    Either way the frozen class's ``__setattr__`` is never called and no ``__init__`` runs.
    """
    fields = attrs.fields(cls)
    assert "__slots__" in cls.__dict__ and not hasattr(cls, "__attrs_post_init__") \
        and not hasattr(cls, "__attrs_pre_init__")
    for field in fields:
        assert field.validator is None and field.converter is None and field.init
    names = [f"a{i}" for i in range(len(fields))]
    env: dict[str, Any] = {"new": object.__new__, "cls": cls}
    body = []
    slots = cls.__dict__["__slots__"]  # the class's own, asserted above
    if cls.__bases__ == (object,) and "__weakref__" not in slots:
        env["twin"] = type(f"_{cls.__name__}Twin", (), {"__slots__": tuple(slots)})
        body.append("    self = new(twin)")
        body.extend(f"    self.{field.name} = a{i}" for i, field in enumerate(fields))
        body.append("    self.__class__ = cls")
    else:
        body.append("    self = new(cls)")
        for i, field in enumerate(fields):
            env[f"set{i}"] = cls.__dict__[field.name].__set__
            body.append(f"    set{i}(self, a{i})")
    source = f"def make({', '.join(names)}):\n" + "\n".join(body) + "\n    return self\n"
    exec(compile(source, f"<fast_init {cls.__qualname__}>", "exec"), env)  # noqa: S102
    return env["make"]
