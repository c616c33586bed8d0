"""Declarative descriptions of an oversampler's tunable parameters.

They let the dashboard build its widgets and the CLI parse ``--param name=value`` for any
registered oversampler without knowing it in advance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gda_core.errors import ConfigError


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter.

    Parameters
    ----------
    name : str
        Keyword argument of the oversampler's constructor.
    kind : {"int", "float", "bool", "choice"}
    default : Any
    low, high : float, optional
        Inclusive bounds for numbers.
    choices : tuple, optional
        Allowed values for ``kind="choice"``.
    help : str
        One sentence for tooltips and ``--help``.
    aliases : tuple of (old, new) pairs, optional
        Old spellings of choices that :meth:`parse` still reads (from saved settings and
        files) and turns into the current one.

    Examples
    --------
    >>> spec = ParamSpec("gan_type", "choice", "non-saturating",
    ...                  choices=("non-saturating", "wasserstein"),
    ...                  aliases=(("vanilla", "non-saturating"),))
    >>> spec.parse("vanilla"), spec.parse("wasserstein")
    ('non-saturating', 'wasserstein')
    """

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""
    aliases: tuple[tuple[Any, Any], ...] = ()

    def parse(self, value: Any) -> Any:
        """Convert ``value`` (possibly a string from the CLI) and check its range."""
        try:
            if self.kind == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError  # 3.7 is not silently 3
                v: Any = int(value)
            elif self.kind == "float":
                v = float(value)
            elif self.kind == "bool":
                v = value if isinstance(value, bool) else _BOOLS[str(value).strip().lower()]
            elif isinstance(value, str) and self.aliases:
                v = dict(self.aliases).get(value, value)
            else:
                v = value
        except (TypeError, ValueError, KeyError):
            kind = "true or false" if self.kind == "bool" else (
                f"a{'n' if self.kind == 'int' else ''} {self.kind}")
            raise ConfigError(f"{self.name} must be {kind}; got {value!r}") from None
        if self.kind == "choice" and v not in self.choices:
            raise ConfigError(f"{self.name} must be one of {list(self.choices)}; got {v!r}")
        if self.kind in {"int", "float"}:
            if v != v:  # NaN
                raise ConfigError(f"{self.name} must be a number; got NaN")
            if self.low is not None and v < self.low:
                raise ConfigError(f"{self.name} must be at least {self.low}; got {v}")
            if self.high is not None and v > self.high:
                raise ConfigError(f"{self.name} must be at most {self.high}; got {v}")
        return v


_BOOLS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}
"""Spellings of a boolean parameter's value; anything else is refused."""


def parse_params(specs: tuple[ParamSpec, ...], given: dict[str, Any]) -> dict[str, Any]:
    """Validate ``given`` against ``specs``; unknown names raise :class:`ConfigError`."""
    by_name = {s.name: s for s in specs}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        valid = ", ".join(by_name) or "none"
        raise ConfigError(f"unknown parameter {unknown[0]!r}; valid parameters: {valid}")
    return {k: by_name[k].parse(v) for k, v in given.items()}
