"""Can a folder or file be created at a path? Asked before anything is written, so a bad output path
costs one line, not a traceback after the work is done."""

from __future__ import annotations

import errno
import uuid
from pathlib import Path


def creatable_problem(path: Path) -> str | None:
    """Why `path` (a folder or file to create) cannot be created, or None when it can.

    The nearest existing ancestor must be a folder that takes new entries. `os.access` says yes to root
    on read-only file systems such as /proc, so a probe folder is made there and removed at once.
    """
    ancestor = Path(path).expanduser().absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"cannot be created: {ancestor} is a file, not a folder; choose another path"
    probe = ancestor / f".gan-lab-probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM):
            return f"cannot be written: no write permission in {ancestor}; choose another path"
        return f"cannot be created: {ancestor} does not take new folders ({error.strerror or error}); choose another path"
    return None
