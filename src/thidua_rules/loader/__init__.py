"""Loading policies and unit data: every problem of a file collected, then raised once."""

from __future__ import annotations

from .data import load_data, parse_data
from .policy import load_policy, parse_policy

__all__ = ["load_data", "load_policy", "parse_data", "parse_policy"]
