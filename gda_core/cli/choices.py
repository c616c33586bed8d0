"""Choices of a command-line option that are read from a heavy module only when needed."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator


class LazyChoices:
    """The names in ``module.attribute`` (a tuple or the keys of a dict), imported the
    first time they are checked or listed, so building the parser imports nothing heavy.

    Examples
    --------
    >>> names = LazyChoices("gda_core.runs.records", "STATUSES", extra=("list",))
    >>> "finished" in names, "list" in names, "nope" in names
    (True, True, False)
    """

    def __init__(self, module: str, attribute: str, *, extra: Iterable[str] = ()) -> None:
        self.module, self.attribute, self.extra = module, attribute, tuple(extra)
        self._names: tuple[str, ...] | None = None

    def names(self) -> tuple[str, ...]:
        """The choices (imported once)."""
        if self._names is None:
            value = getattr(importlib.import_module(self.module), self.attribute)
            self._names = (*tuple(value), *self.extra)
        return self._names

    def __contains__(self, item: object) -> bool:
        return item in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"LazyChoices({self.module}.{self.attribute})"
