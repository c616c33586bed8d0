"""Import torchvision on a CPU-only torch build.

torchvision 0.28.0 is the release that matches ``torch==2.13.0``, but its PyPI wheel is a
CUDA build.  With the CPU build of torch its compiled extension (``torchvision._C``) does
not load, so its custom operators are never defined, and ``import torchvision`` fails in
``torchvision/_meta_registrations.py`` with::

    RuntimeError: operator torchvision::nms does not exist

because that module registers fake (meta) kernels for ``nms`` and ``qnms`` without first
checking that the extension loaded.  :func:`import_torchvision` retries the import after
defining just those operator *schemas* (no kernels).  Everything this project uses from
torchvision (datasets, transforms, model definitions) is pure Python and works; calling
``torchvision.ops.nms`` would raise "no kernel", which is expected on such an install.

Users with a matching CUDA or macOS torch never reach the fallback: the first import
succeeds.
"""

from __future__ import annotations

import sys
from types import ModuleType

# Operators whose fake kernels torchvision registers unconditionally at import time.
_MISSING_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
# torch.library.Library objects unregister their definitions when garbage collected, so
# the one created by the fallback is kept here for the life of the process.
_KEEP_ALIVE: list[object] = []


def import_torchvision() -> ModuleType:
    """Import and return :mod:`torchvision`, defining missing op schemas if needed.

    Returns
    -------
    module
        The imported ``torchvision`` package.

    Examples
    --------
    >>> tv = import_torchvision()
    >>> hasattr(tv, "datasets")
    True
    """
    if "torchvision" in sys.modules and hasattr(sys.modules["torchvision"], "datasets"):
        return sys.modules["torchvision"]
    try:
        import torchvision
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
        _forget_partial_import()
        _define_missing_schemas()
        import torchvision
    return torchvision


def _forget_partial_import() -> None:
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def _define_missing_schemas() -> None:
    import torch

    lib = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _MISSING_SCHEMAS:
        name = schema.split("(", 1)[0]
        if not torch._C._jit_get_schemas_for_operator(f"torchvision::{name}"):
            lib.define(schema)
    _KEEP_ALIVE.append(lib)
