"""Yatri: a booking platform for small travel operators."""

from pathlib import Path

__version__ = "0.1.0"

# The checkout the package runs from: templates/, static/, migrations/ and var/ live here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
