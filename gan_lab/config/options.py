"""`key=value` options of the commands that read a run directory (generate, evaluate, interpolate, probe).

Each command declares its options; anything else is refused in one line naming the key, the value
and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from gan_lab.config.creatable import creatable_problem
from gan_lab.config.rules import Float, Int
from gan_lab.errors import UserError, did_you_mean, report_and_exit


@dataclass
class Option:
    """One `key=value` option: parse turns the text into a value or raises ValueError(what is allowed)."""

    key: str
    parse: Callable[[str], Any]
    default: Any
    help: str


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer option, checked by the schema's Int rule (no 4.0, nothing past 2**63)."""
    return Int(low, high).parse


def number(low: float, high: float | None = None) -> Callable[[str], float]:
    """A finite number option in [low, high], checked by the schema's Float rule (no nan, no inf)."""
    return Float(low, high).parse


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}{did_you_mean(text, allowed)}")
        return text

    return parse


def boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError("must be true or false")


def optional_text(text: str) -> str | None:
    return None if text.lower() in ("", "null", "none") else text


def path(text: str) -> Path:
    return Path(text).expanduser()


def output_path(text: str) -> Path:
    """A file or folder the command will create: refused now when it cannot be (a file in the way, no permission)."""
    problem = creatable_problem(path(text)) if text.strip() else "must be a path"
    if problem:
        raise ValueError(problem)
    return path(text)


def _shown(value: Any) -> str:
    """A default as the user would type it: null, true, false, 10000."""
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def usage(command: str, summary: str, options: list[Option], extra: str = "") -> str:
    width = max(len(o.key) for o in options) + 8
    lines = [f"usage: gan-lab {command} <run dir> [key=value ...]{extra}", "", summary, "", "options:"]
    lines += [f"  {(o.key + '=' + _shown(o.default)).ljust(width)}  {o.help}" for o in options]
    return "\n".join(lines)


@dataclass
class Parsed:
    """A command line: the run directory (None for -h/--help), every option's value, the keys given."""

    run_dir: Path | None
    values: dict[str, Any]
    given: set[str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def parse_options(command: str, args: list[str], options: list[Option]) -> Parsed:
    """The run directory and {key: value} from `<run dir> key=value ...`; defaults fill the rest.

    -h/--help gives run_dir None: the caller prints its usage.
    """
    by_key = {o.key: o for o in options}
    values = {o.key: o.default for o in options}
    given: set[str] = set()
    run_dir = None
    for arg in args:
        if arg in ("-h", "--help"):
            return Parsed(None, values, given)
        if "=" not in arg:
            if run_dir is not None:
                raise UserError(
                    f"gan-lab {command}: unexpected argument '{arg}' after the run directory {run_dir}; "
                    f"options are key=value ({', '.join(by_key)})"
                )
            run_dir = Path(arg)
            continue
        key, text = arg.split("=", 1)
        if key not in by_key:
            raise UserError(
                f"gan-lab {command}: {key} is not an option{did_you_mean(key, by_key)}; options: {', '.join(by_key)}"
            )
        try:
            values[key] = by_key[key].parse(text)
        except ValueError as error:
            raise UserError(f"gan-lab {command}: {key}={text} {error}") from None
        given.add(key)
    if run_dir is None:
        raise UserError(f"gan-lab {command} needs a run directory, e.g. gan-lab {command} outputs/train/<date>/<time>")
    return Parsed(run_dir, values, given)


def entry_point(run: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
    """A command's main(args): its UserErrors become one line on stderr and exit code 2."""

    def main(args: list[str]) -> int:
        try:
            return run(args)
        except UserError as error:
            report_and_exit(error)

    return main
