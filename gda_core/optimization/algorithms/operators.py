"""Variation operators shared by the genetic algorithms: SBX crossover and polynomial mutation
with the crossover and mutation rates as parameters (the study's ``pc`` and ``pm``)."""

from __future__ import annotations

from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM

from gda_core.errors import ConfigError


def check_rates(pc: float, pm: float) -> None:
    """Rates are probabilities, and at least one operator must act."""
    for name, v in (("crossover rate pc", pc), ("mutation rate pm", pm)):
        if not 0.0 <= v <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1, got {v:g}")
    if pc == 0 and pm == 0:
        raise ConfigError("with crossover and mutation rates both 0 the population never "
                          "changes; set at least one above 0")


def variation(pc: float, pm: float, *, eta_c: float = 15.0, eta_m: float = 20.0):
    """``(crossover, mutation)``: SBX applied to a pair with probability ``pc``; polynomial
    mutation applied to an offspring with probability ``pm`` (each variable of a mutated
    offspring with probability ``1/k``)."""
    check_rates(pc, pm)
    return SBX(prob=pc, eta=eta_c), PM(prob=pm, eta=eta_m)
