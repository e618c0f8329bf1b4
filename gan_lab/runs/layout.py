"""The run directory, the contract between `train` and every command after it; the one module that names its files.

A run directory holds `.hydra/` (composed config and overrides), TensorBoard event files,
`checkpoints/`, `samples/`, `summary.json` (how training ended), `diagnoses.json` (the doctor),
and what later commands add: `metrics.json`, `probe.json`, `samples.npz`, `doctor.png`; a sweep job
also has `job.json`; `run.lock` while a training writes it, and `abandoned/` the work a resume from
an older checkpoint moved aside. A sweep directory holds one run directory per job, `multirun.yaml`, and the
index `sweep.csv` / `sweep.json`. Everything below reads or writes them; JSON is written atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from gan_lab.errors import UserError

if TYPE_CHECKING:  # omegaconf loads where a config is read: shell completion lists run directories without it
    from omegaconf import DictConfig

HYDRA_DIR = ".hydra"
CONFIG_FILE = "config.yaml"  # inside .hydra/
OVERRIDES_FILE = "overrides.yaml"  # inside .hydra/
CHECKPOINTS_DIR = "checkpoints"
STEP_CHECKPOINT = "step_{step:06d}.pt"
STEP_CHECKPOINT_GLOB = "step_*.pt"
BEST_CHECKPOINT = "best.pt"  # the best checkpoint by trainer.eval_every's metric, and its record
BEST_RECORD = "best.json"
SAMPLES_DIR = "samples"
SAMPLE_GRID = "step_{step:06d}.png"
SUMMARY_FILE = "summary.json"
DIAGNOSES_FILE = "diagnoses.json"
METRICS_FILE = "metrics.json"
PROBE_FILE = "probe.json"
JOB_FILE = "job.json"
GENERATED_FILE = "samples.npz"
DOCTOR_PICTURE = "doctor.png"  # in a run or a sweep directory
WALKS_PICTURE = "walks.png"  # `gan-lab interpolate`: a row per walk, and the walks as a GIF
WALKS_ANIMATION = "walks.gif"
ARITHMETIC_PICTURE = "arithmetic.png"
INTERPOLATIONS_DIR = "interpolations"  # where `gan-lab interpolate` writes by default
MULTIRUN_FILE = "multirun.yaml"  # in a sweep directory, as are the three below
SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"
COMPARE_PICTURE = "compare.png"
ABANDONED_DIR = "abandoned"  # resume from an older checkpoint moves the newer work here (gan_lab.runs.timeline)
ABANDONED_BRANCH = "after_step_{step:06d}_{time}"  # one folder per abandoned timeline, inside abandoned/
RUN_LOG = "train.log"  # Hydra's job log (hydra.job.name is train)
RUN_LOCK = "run.lock"  # one writer per run directory (gan_lab.runs.lock)

# summary.json "status" of a run that ended as asked: all its steps, or trainer.time_limit reached.
FINISHED = ("ok", "time_limit")


# ----------------------------------------------------------------- what a directory is
def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def config_file(run_dir: Path) -> Path:
    return Path(run_dir) / HYDRA_DIR / CONFIG_FILE


def is_run_dir(path: Path) -> bool:
    return config_file(path).is_file()


def is_sweep_dir(path: Path) -> bool:
    return (Path(path) / MULTIRUN_FILE).is_file() or (not is_run_dir(path) and bool(job_dirs(path)))


def job_dirs(sweep_dir: Path) -> list[Path]:
    """The run directories of a sweep, in job-number order."""
    sweep_dir = Path(sweep_dir)
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and is_run_dir(p)] if sweep_dir.is_dir() else []

    def job_number(p: Path) -> tuple[int, str]:
        head = p.name.split("_", 1)[0]
        return (int(head) if head.isdigit() else 1 << 30, p.name)

    return sorted(jobs, key=job_number)


def require_run_dir(path: Path | str) -> Path:
    """The path as a run directory, or a one-line error saying what was expected."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist; give a run directory such as outputs/train/<date>/<time>")
    if not is_run_dir(path):
        raise UserError(f"{path} is not a gan-lab run directory (no .hydra/config.yaml inside)")
    return path


def check_writable(run_dir: Path) -> None:
    """Fail before training, not at the first checkpoint, when the run directory cannot be written."""
    probe = Path(run_dir) / ".write_test"
    try:
        probe.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UserError(f"run directory {run_dir} cannot be written ({error.strerror or error}); choose another hydra.run.dir") from None


def remove_refused_run(run_dir: Path, existed: Path) -> None:
    """Undo what Hydra wrote for a run whose input was then refused: .hydra/ and train.log, and the folders
    made for it below `existed` (the nearest folder that existed before the command). Only when nothing
    else is in the run directory, so a resumed or user-made folder keeps everything."""
    run_dir = Path(run_dir).absolute()
    if not run_dir.is_dir() or {p.name for p in run_dir.iterdir()} - {HYDRA_DIR, RUN_LOG}:
        return
    shutil.rmtree(run_dir / HYDRA_DIR, ignore_errors=True)
    (run_dir / RUN_LOG).unlink(missing_ok=True)
    folder, existed = run_dir, Path(existed).absolute()
    while folder != existed and existed in folder.parents:
        try:
            folder.rmdir()  # only while empty
        except OSError:
            break
        folder = folder.parent


# ----------------------------------------------------------------- config
def load_run_config(run_dir: Path) -> DictConfig:
    """The composed config the run trained with."""
    from omegaconf import OmegaConf

    return OmegaConf.load(config_file(require_run_dir(run_dir)))


def saved_overrides(run_dir: Path) -> list[str]:
    """The command-line overrides the run was started with (.hydra/overrides.yaml), or []."""
    from omegaconf import OmegaConf

    path = Path(run_dir) / HYDRA_DIR / OVERRIDES_FILE
    return [str(line) for line in OmegaConf.load(path)] if path.is_file() else []


def sweep_config(sweep_dir: Path) -> DictConfig | None:
    """The sweep's multirun.yaml, or None when there is none."""
    from omegaconf import OmegaConf

    path = Path(sweep_dir) / MULTIRUN_FILE
    return OmegaConf.load(path) if path.is_file() else None


# ----------------------------------------------------------------- checkpoints
def checkpoints_dir(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINTS_DIR


def step_checkpoint(run_dir: Path, step: int) -> Path:
    return checkpoints_dir(run_dir) / STEP_CHECKPOINT.format(step=step)


def checkpoints(run_dir: Path) -> list[Path]:
    """Step checkpoints of a run, oldest first (best.pt and other names excluded)."""
    return sorted(checkpoints_dir(run_dir).glob(STEP_CHECKPOINT_GLOB))


def latest_checkpoint(run_dir: Path) -> Path:
    found = checkpoints(run_dir)
    if not found:
        raise UserError(f"{run_dir} has no checkpoints/step_*.pt; train it first or give checkpoint=<file>")
    return found[-1]


def run_dir_of_checkpoint(path: Path) -> Path | None:
    """The run directory a checkpoint file sits in (<run>/checkpoints/<file>), or None."""
    run_dir = Path(path).parent.parent
    return run_dir if Path(path).parent.name == CHECKPOINTS_DIR and is_run_dir(run_dir) else None


def find_checkpoint(run_dir: Path, name: str | None) -> Path:
    """checkpoint= as given: None (the newest step_*.pt), a path, or a name inside the run's checkpoints/."""
    if name is None:
        return latest_checkpoint(run_dir)
    folder = checkpoints_dir(run_dir)
    for candidate in (Path(name), Path(run_dir) / name, folder / name, folder / f"{name}.pt"):
        if candidate.is_file():
            return candidate
    found = sorted(p.name for p in folder.glob("*.pt"))
    raise UserError(f"checkpoint={name} does not exist; this run has {', '.join(found) or 'no checkpoints'}")


def best_checkpoint(run_dir: Path) -> Path:
    return checkpoints_dir(run_dir) / BEST_CHECKPOINT


def read_best_record(run_dir: Path) -> dict | None:
    """{'metric', 'value', 'step'} of checkpoints/best.pt, or None before the first evaluation."""
    record = read_json(checkpoints_dir(run_dir) / BEST_RECORD)
    return record if isinstance(record, dict) else None


def write_best_record(run_dir: Path, record: dict) -> None:
    write_json(checkpoints_dir(run_dir) / BEST_RECORD, record)


# ----------------------------------------------------------------- samples and pictures
def sample_grid(run_dir: Path, step: int) -> Path:
    """samples/step_NNNNNN.png (its folder created)."""
    folder = Path(run_dir) / SAMPLES_DIR
    folder.mkdir(exist_ok=True)
    return folder / SAMPLE_GRID.format(step=step)


def sample_grids(run_dir: Path) -> list[Path]:
    """The run's sample grids, oldest first."""
    return sorted((Path(run_dir) / SAMPLES_DIR).glob("step_*.png"))


def generated_file(run_dir: Path) -> Path:
    """Where `gan-lab generate` puts its images by default."""
    return Path(run_dir) / GENERATED_FILE


def doctor_picture(run_or_sweep_dir: Path) -> Path:
    return Path(run_or_sweep_dir) / DOCTOR_PICTURE


def compare_picture(sweep_dir: Path) -> Path:
    return Path(sweep_dir) / COMPARE_PICTURE


def interpolations_dir(run_dir: Path) -> Path:
    return Path(run_dir) / INTERPOLATIONS_DIR


def walk_files(out_dir: Path) -> tuple[Path, Path]:
    """(walks.png, walks.gif) in the folder `gan-lab interpolate` writes to."""
    return Path(out_dir) / WALKS_PICTURE, Path(out_dir) / WALKS_ANIMATION


def arithmetic_picture(out_dir: Path) -> Path:
    return Path(out_dir) / ARITHMETIC_PICTURE


# ----------------------------------------------------------------- JSON records
def read_json(path: Path) -> dict | list | None:
    """A JSON file's content, or None when it is missing or unreadable (half-written, corrupt)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: dict | list) -> Path:
    """Write JSON atomically (a temporary file, then rename); a failed write names the file and keeps the old one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise UserError(f"could not write {path}: {error.strerror or error}") from None
    return path


def _record(run_dir: Path, name: str) -> dict | None:
    data = read_json(Path(run_dir) / name)
    return data if isinstance(data, dict) else None


def load_summary(run_dir: Path) -> dict | None:
    """summary.json of a run that ended ("status": ok, interrupted, diverged or stopped_by_doctor), or None."""
    return _record(run_dir, SUMMARY_FILE)


def write_summary(run_dir: Path, summary: dict) -> Path:
    return write_json(Path(run_dir) / SUMMARY_FILE, summary)


def diagnoses_file(run_dir: Path) -> Path:
    """diagnoses.json: the doctor's static findings and detector events, written live by training."""
    return Path(run_dir) / DIAGNOSES_FILE


def write_diagnoses(run_dir: Path, diagnoses: dict) -> Path:
    return write_json(diagnoses_file(run_dir), diagnoses)


def load_metrics(run_dir: Path) -> dict | None:
    """metrics.json written by `gan-lab evaluate`, or None."""
    return _record(run_dir, METRICS_FILE)


def write_metrics(run_dir: Path, metrics: dict) -> Path:
    return write_json(Path(run_dir) / METRICS_FILE, metrics)


def write_probe(run_dir: Path, record: dict) -> Path:
    return write_json(Path(run_dir) / PROBE_FILE, record)


def load_job_record(run_dir: Path) -> dict | None:
    """job.json of a sweep job (name, swept values, status, error line), or None."""
    return _record(run_dir, JOB_FILE)


def write_job_record(run_dir: Path, record: dict) -> Path:
    return write_json(Path(run_dir) / JOB_FILE, record)


def write_sweep_index(sweep_dir: Path, index: dict, csv_text: str) -> tuple[Path, Path]:
    """sweep.json and sweep.csv at the sweep root."""
    sweep_dir = Path(sweep_dir)
    csv_file = sweep_dir / SWEEP_CSV
    csv_file.write_text(csv_text)
    return write_json(sweep_dir / SWEEP_JSON, index), csv_file


# ----------------------------------------------------------------- TensorBoard
def read_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the run's event files: tag -> [(step, value), ...]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
