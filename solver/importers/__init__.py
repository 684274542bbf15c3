"""Importers that map public meeting-scheduling benchmarks onto the forum problem model.

Each importer reads the benchmark's own file format (never a copy of it in this
repository) and returns a `Problem` that passes `check_problem`. The mapping
choices are documented in docs/importers.md.
"""

from solver.importers.b2b import load_b2b, parse_b2b
from solver.importers.csplib046 import load_csplib046, parse_csplib046
from solver.importers.optaplanner import load_optaplanner, parse_optaplanner

__all__ = ["load_b2b", "load_csplib046", "load_optaplanner", "parse_b2b", "parse_csplib046", "parse_optaplanner"]
