"""TensorBoard's HParams dashboard for sweeps, written without TensorFlow and without stray runs.

`SummaryWriter.add_hparams` writes into a new timestamped sub-folder, which TensorBoard shows as one
extra run per job. Here each job writes the three HParams summaries (experiment, session start,
session end) into its own run directory, so the session is the job's run: the dashboard lists every
job with its swept values and reads the final metrics from the scalars the run already logged.
"""

from __future__ import annotations

import time
from pathlib import Path

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from gan_lab.sweeps.job_names import short_keys

HPARAMS_SUFFIX = ".hparams"  # the session's own event file: one per job, rewritten when the job records again
# Scalars every run logs; the dashboard shows each one's last value as a metric column.
METRICS = ("loss/D", "loss/G", "prob/D_real", "prob/D_fake", "perf/img_per_s")
STATUS = {"ok": api_pb2.STATUS_SUCCESS, "time_limit": api_pb2.STATUS_SUCCESS, "interrupted": api_pb2.STATUS_UNKNOWN,
          "preempted": api_pb2.STATUS_UNKNOWN}  # else STATUS_FAILURE


def typed(value: str) -> float | bool | str:
    """An override's value as the dashboard shows it: numbers as numbers, booleans, else text."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_override(f"key={value}").value()
    except (HydraException, ValueError):
        return str(value)
    if isinstance(parsed, bool):
        return parsed
    if isinstance(parsed, (int, float)):
        return float(parsed)
    return str(value)


def _summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    value = summary_pb2.Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(data))
    value.tensor.CopyFrom(metadata.NULL_TENSOR)
    return summary_pb2.Summary(value=[value])


def _data_type(value) -> int:
    if isinstance(value, bool):
        return api_pb2.DATA_TYPE_BOOL
    return api_pb2.DATA_TYPE_FLOAT64 if isinstance(value, float) else api_pb2.DATA_TYPE_STRING


def experiment_summary(hparams: dict, metrics: list[str]) -> summary_pb2.Summary:
    """The dashboard's columns: these hparams and these scalar tags as metrics."""
    experiment = api_pb2.Experiment(
        hparam_infos=[api_pb2.HParamInfo(name=k, type=_data_type(v)) for k, v in hparams.items()],
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metrics],
    )
    return _summary(metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment))


def session_start_summary(hparams: dict, start_time: float) -> summary_pb2.Summary:
    info = plugin_data_pb2.SessionStartInfo(start_time_secs=start_time)
    for key, value in hparams.items():
        if isinstance(value, bool):
            info.hparams[key].bool_value = value
        elif isinstance(value, float):
            info.hparams[key].number_value = value
        else:
            info.hparams[key].string_value = str(value)
    return _summary(metadata.SESSION_START_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_start_info=info))


def session_end_summary(status: str, end_time: float) -> summary_pb2.Summary:
    info = plugin_data_pb2.SessionEndInfo(status=STATUS.get(status, api_pb2.STATUS_FAILURE), end_time_secs=end_time)
    return _summary(metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=info))


def write_job_hparams(run_dir: Path, record: dict) -> None:
    """A job's HParams session (swept values, status) into its run directory, from its job.json record.

    Metrics in metrics.json (the sweep job's quality evaluation, or gan-lab evaluate: fid, kid, precision,
    recall, ...) are also written as `metrics/<name>` scalars so they get columns.
    """
    from gan_lab.runs.layout import FINISHED, load_metrics, load_summary

    summary = load_summary(run_dir) or {}
    names = short_keys(list(record["params"]))
    hparams = {names[key]: typed(value) for key, value in record["params"].items()}
    scored = load_metrics(run_dir) or {}
    extra = {f"metrics/{k}": float(v) for k, v in scored.items() if isinstance(v, float)}
    step = int(summary.get("steps") or 0)
    now = time.time()
    for older in Path(run_dir).glob(f"events.out.tfevents.*{HPARAMS_SUFFIX}"):  # the job ran again
        older.unlink(missing_ok=True)
    writer = EventFileWriter(str(run_dir), filename_suffix=HPARAMS_SUFFIX)
    try:
        if record["status"] in FINISHED:  # a failed job's experiment would lack the metrics only finished jobs have
            writer.add_event(
                event_pb2.Event(wall_time=now, step=step, summary=experiment_summary(hparams, [*METRICS, *extra]))
            )
        writer.add_event(
            event_pb2.Event(
                wall_time=now, step=step, summary=session_start_summary(hparams, now - record.get("job_time_s", 0))
            )
        )
        if extra:
            values = [summary_pb2.Summary.Value(tag=tag, simple_value=value) for tag, value in extra.items()]
            writer.add_event(event_pb2.Event(wall_time=now, step=step, summary=summary_pb2.Summary(value=values)))
        writer.add_event(event_pb2.Event(wall_time=now, step=step, summary=session_end_summary(record["status"], now)))
    finally:
        writer.close()
