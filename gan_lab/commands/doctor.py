"""`gan-lab doctor <run dir | sweep dir>`: one verdict per check, and doctor.png with the evidence."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_lab.doctor.report import diagnose_run, job_line, overall, run_report, verdicts
from gan_lab.errors import UserError, report_and_exit
from gan_lab.runs.layout import display_path, doctor_picture, is_run_dir, is_sweep_dir, job_dirs


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="gan-lab doctor",
        description="Diagnose a training run (or every job of a sweep): one verdict per check, and doctor.png "
        "with losses, D's outputs and G's and D's bottom/top gradient norms, firing points marked.",
    )
    parser.add_argument("path", help="a run directory (outputs/train/<date>/<time>) or a sweep directory")
    parser.add_argument("--no-plot", action="store_true", help="print the report only; do not write doctor.png")
    opts = parser.parse_args(args)
    path = Path(opts.path)
    try:
        if not path.exists():
            raise UserError(f"{path} does not exist; give a run or sweep directory, e.g. outputs/train/<date>/<time>")
        if is_run_dir(path):
            scalars, diag, replayed = diagnose_run(path)
            print(run_report(path, diag, replayed))
            if not opts.no_plot:
                from gan_lab.doctor.plot import write_run_picture

                static, live = verdicts(diag)
                title = f"{display_path(path)}: {overall(static + live)}"
                print(f"picture: {display_path(write_run_picture(doctor_picture(path), scalars, diag, title))}")
        elif is_sweep_dir(path):
            if not job_dirs(path):
                raise UserError(f"sweep {path} has no finished job directories yet")
            jobs = [(job, *diagnose_run(job)) for job in job_dirs(path)]
            print(f"gan-lab doctor: sweep {display_path(path)} ({len(jobs)} jobs)")
            width = max(len(job.name) for job, *_ in jobs)
            for job, _, diag, _ in jobs:
                print(job_line(job.name.ljust(width), diag))
            print(f"details: gan-lab doctor {display_path(jobs[0][0])}  (any job directory)")
            if not opts.no_plot:
                from gan_lab.doctor.plot import write_sweep_picture

                picture = write_sweep_picture(doctor_picture(path), [(job.name, s, d) for job, s, d, _ in jobs])
                print(f"picture: {display_path(picture)}")
        else:
            raise UserError(f"{path} is neither a gan-lab run directory (.hydra/config.yaml) nor a sweep of them")
    except UserError as error:
        report_and_exit(error)
    return 0
