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

    from tensorboard import program

    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(logdir), "--port", str(opts.port), "--host", opts.host])
    url = board.launch()
    print(f"TensorBoard on {logdir} at {url} (Ctrl-C to stop)", flush=True)
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
