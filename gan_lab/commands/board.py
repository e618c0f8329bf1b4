"""`gan-lab board [dir]`: start TensorBoard on outputs/ (or the given run or sweep directory)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_lab.errors import UserError, report_and_exit


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gan-lab board", description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("logdir", nargs="?", default="outputs", help="run, sweep or outputs folder (default: outputs)")
    parser.add_argument("--port", type=int, default=6006, help="port to serve on (default 6006; 0 picks a free one)")
    parser.add_argument("--host", default="localhost", help="interface to bind (default localhost)")
    opts = parser.parse_args(args)
    logdir = Path(opts.logdir)
    if not logdir.is_dir():
        report_and_exit(UserError(f"{logdir} is not a folder; give a run or sweep directory, or outputs/"))

    if not 0 <= opts.port <= 65535:
        report_and_exit(UserError(f"--port {opts.port} is not a port; use 1-65535, or 0 for a free one"))

    from tensorboard import program

    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(logdir), "--port", str(opts.port), "--host", opts.host])
    try:
        url = board.launch()
    except program.TensorBoardServerException as error:  # port in use, host that cannot be bound
        report_and_exit(UserError(f"TensorBoard cannot start on {opts.host}:{opts.port}: {error.msg}; "
                                  "choose another --port (0 picks a free one)"))  # fmt: skip
    print(f"TensorBoard on {logdir} at {url} (Ctrl-C to stop)", flush=True)
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
