"""User-facing errors: bad input is reported as one line, not a traceback."""

from __future__ import annotations

import difflib
import os
import sys
from typing import Iterable

EXIT_USAGE = 2


class UserError(Exception):
    """A problem with what the user asked for (a config value, a path, a file).

    The message is one line naming what is wrong and what is allowed.
    """

    exit_code = EXIT_USAGE
    prefix = "error: "


class RunStopped(UserError):
    """A run that ended early on purpose: interrupted (Ctrl-C, SIGTERM), preempted (SLURM) or diverged (non-finite values).

    Its checkpoint and event files are saved before this is raised; status goes to summary.json.
    """

    def __init__(self, message: str, exit_code: int, status: str):
        super().__init__(message)
        self.exit_code, self.status = exit_code, status
        self.prefix = "" if status in ("interrupted", "preempted") else "error: "


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest allowed value, or ''."""
    match = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def report_and_exit(error: UserError) -> None:
    """Print `error: <message>` on stderr and exit (2 for bad input); HYDRA_FULL_ERROR=1 shows the traceback."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1" and not isinstance(error, RunStopped):
        raise error
    print(f"{error.prefix}{error}", file=sys.stderr, flush=True)
    sys.exit(error.exit_code)
