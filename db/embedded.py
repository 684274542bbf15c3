"""The embedded PostgreSQL used when DATABASE_URL is not set.

pgserver ships PostgreSQL 16 binaries; the server keeps its data in a local
directory (default `.sidelines/pgdata`, git-ignored) so that it survives restarts.
The returned handle must be kept alive: pgserver stops the server when the last
handle is garbage-collected or the process exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".sidelines") / "pgdata"


class EmbeddedServer:
    def __init__(self, handle: Any, url: str) -> None:
        self.handle = handle  # pgserver.PostgresServer; typed Any because pgserver is imported lazily
        self.url = url

    def stop(self) -> None:
        self.handle.cleanup()


def start_embedded(data_dir: Path = DEFAULT_DATA_DIR) -> EmbeddedServer:
    """Start (or attach to) the PostgreSQL whose data lives in `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # pgserver logs each pg_ctl command line and its output at INFO, which the app's logging
    # config prints: a screenful at every Ctrl-C of the demo. Its warnings and errors still show.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime directory on import and start, which warns
        # when XDG_RUNTIME_DIR is unset (CI, root shells); the /tmp fallback is fine here
        warnings.simplefilter("ignore")
        import pgserver  # imported here: slow, and only the embedded path needs it

        handle = pgserver.get_server(data_dir.resolve(), cleanup_mode="stop")
    return EmbeddedServer(handle, handle.get_uri())
