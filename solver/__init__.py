"""The scheduling engine: the forum model, the solvers and the validator (pure, no I/O).

The local search's hot modules (`native.NATIVE_MODULES`) are compiled with mypyc when the
package is installed (setup.py): the same code, making the same moves, about twice as fast.
The build is used only while every one of their sources is the one it was made from
(solver/native.py). An edited source therefore runs as Python until the next
`pip install -e .`, never shadowed by an old build; tests/test_native.py fails until then,
so the speed is not lost unnoticed. SIDELINES_PURE_PYTHON=1 runs them as Python too.
"""

from __future__ import annotations

import os
import sys

from solver.native import PURE_PYTHON_VARIABLE, PythonSources, build_is_current

COMPILED = not os.environ.get(PURE_PYTHON_VARIABLE) and build_is_current()
if not COMPILED:
    sys.meta_path.insert(0, PythonSources())
