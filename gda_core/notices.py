"""Plain-language findings about a method's run, with a stable code for programs.

A :class:`Notice` is what an oversampler, a GAN's training diagnostics or the sample
quality gate has to tell the user: ``code`` names the kind of finding (``"noise"``,
``"mode-collapse"``, ``"no-images-generated"``, ...) so that tables, tests and scripts can
act on it, ``message`` says it in words.  Results store them as ``{"code", "message"}``
dicts (JSON), see :func:`notice_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOTE = "note"
"""Code of a finding without a more specific kind (also of old results' plain strings)."""


@dataclass(frozen=True)
class Notice:
    """One finding.

    Attributes
    ----------
    code : str
        Kind of finding, lower-case with hyphens.
    message : str
        What happened and what to do, for a non-specialist.
    """

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """``{"code": ..., "message": ...}``."""
        return {"code": self.code, "message": self.message}

    def __str__(self) -> str:
        return self.message


def notice_dict(value: Any) -> dict[str, str]:
    """A notice as a ``{"code", "message"}`` dict, from a :class:`Notice`, an object with
    ``code`` and ``message`` attributes, such a dict, or a plain string (code
    :data:`NOTE`).

    Examples
    --------
    >>> notice_dict("sample quality not computed")
    {'code': 'note', 'message': 'sample quality not computed'}
    >>> notice_dict(Notice("noise", "looks like noise"))
    {'code': 'noise', 'message': 'looks like noise'}
    """
    if isinstance(value, str):
        return {"code": NOTE, "message": value}
    if isinstance(value, dict):
        return {"code": str(value.get("code") or NOTE), "message": str(value.get("message", ""))}
    return {"code": str(value.code), "message": str(value.message)}
