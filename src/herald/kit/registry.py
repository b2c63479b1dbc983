"""A typed registry: what features put on the shared runtime at start-up, by key.

The shared layer (``runtime.py``, ``deps.py``) must not import a feature, yet some of a
feature's state lives as long as the process (a cache, a batcher, a store) and a few shared
dependencies need a feature's function (who the caller is). A feature declares a ``Slot`` in its
own module, the composition root (``herald/features.py``) fills it at start-up, and the feature
reads it back typed: ``runtime.features.get(SLOT)``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    """A key for one value of type ``T``; its identity is the key, the name is for errors."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class NotRegistered(LookupError):
    """A slot was read that start-up never filled: a feature is missing from the root's list."""


class Registry:
    def __init__(self) -> None:
        self._values: dict[Slot[Any], Any] = {}

    def put(self, slot: Slot[T], value: T) -> T:
        if slot in self._values:
            raise ValueError(f"{slot!r} is registered already")
        self._values[slot] = value
        return value

    def get(self, slot: Slot[T]) -> T:
        try:
            value: T = self._values[slot]
        except KeyError:
            raise NotRegistered(f"{slot!r} was not registered at start-up") from None
        return value

    def __contains__(self, slot: Slot[Any]) -> bool:
        return slot in self._values
