"""Headless command line: ``python -m gda_core compare ...`` and ``python -m gda_core list``."""

from gda_core.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
