"""bench/run_all.py rewrites the suites it ran and keeps every other section of the page."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location("run_all", Path(__file__).parents[1] / "bench" / "run_all.py")
assert _SPEC is not None and _SPEC.loader is not None
run_all = importlib.util.module_from_spec(_SPEC)
sys.modules["run_all"] = run_all  # its dataclasses look their module up there
_SPEC.loader.exec_module(run_all)

PAGE = """# Benchmarks

| what | value |
| --- | --- |
| date | old |

## B2B

old b2b table
_old note_

## UNGA by hand

kept text
<!-- bench/resolve.py: start -->
## Re-solve

resolve table
<!-- bench/resolve.py: end -->

## Load

load table
"""


def test_a_rerun_suite_replaces_its_own_section_only() -> None:
    page = run_all.replace_sections(PAGE, "# Benchmarks\n\nnew header\n", ["\n## B2B\n\nnew b2b table\n"])
    assert "new header" in page and "| date | old |" not in page
    assert "new b2b table" in page and "old b2b table" not in page and "_old note_" not in page
    for kept in ("## UNGA by hand\n\nkept text", "<!-- bench/resolve.py: start -->\n## Re-solve", "## Load"):
        assert kept in page
    assert page.index("new b2b table") < page.index("## UNGA by hand")


def test_a_suite_the_page_lacks_is_added_before_the_rest() -> None:
    page = run_all.replace_sections(PAGE, "# Benchmarks\n", ["\n## Scenarios\n\nscenario table\n"])
    assert page.index("## Scenarios") < page.index("## B2B") and "old b2b table" in page
