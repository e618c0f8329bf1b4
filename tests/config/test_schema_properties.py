"""Property test of the schema: hostile values for every key and every command option are refused in one line.

For each key of config/schema.py, Hypothesis draws values from one strategy per class of bad value
(nan/inf, wrong type, float for integer, out of range, huge, empty, missing interpolation: those that
can break the key's rule) and runs the real `gan-lab train` entry point in-process in an empty folder:
exit 2, one `error:` line naming the key, no traceback, nothing written. The draws are derandomized
(fixed seed). The per-key coverage is printed at the end of the test session (conftest.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gan_lab.commands.train as train_command
from gan_lab.commands import evaluate, generate, interpolate, probe
from gan_lab.config import schema
from gan_lab.config.rules import (
    INT64_LIMIT,
    Bool,
    Choice,
    ChoiceList,
    Classes,
    Duration,
    Features,
    Float,
    Int,
    IntList,
    NumberPair,
    Rule,
    Text,
)

CASES_PER_KEY = 6  # drawn; at least 5 distinct must be refused
DRAWS = settings(max_examples=CASES_PER_KEY, derandomize=True, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck))  # fixed seed, no example database: the same cases every run
COVERAGE: dict[str, Counter] = defaultdict(Counter)  # key -> class of bad value -> cases (printed by conftest)

BASE_EXTRA = {"dataset=image_folder": ["dataset.path=images"]}  # a required key, when it is not the one tested


def keys_and_rules() -> list[tuple[str, list[str], Rule]]:
    """(key, the overrides that compose a config holding it, its rule) for every schema key."""
    found = [(key, [], rule) for key, rule in schema.COMMON.items()]
    for group, by_name in schema.BY_OPTION.items():
        for name, rules in by_name.items():
            base = [f"{group}={name}"]  # the option of that name (conf/<group>/<name>.yaml)
            found += [(key, base, rule) for key, rule in rules.items() if key not in schema.COMMON]
    return found


KEYS = keys_and_rules()

# --- strategies: (class of bad value, override text) -------------------------------------------------
WORDS = st.from_regex(r"[a-z]{3,9}", fullmatch=True).filter(
    lambda w: w not in ("nan", "inf", "null", "none", "true", "false", "auto", "cpu", "cuda")
)
NAN_INF = st.sampled_from(["nan", "inf", "-inf", "NaN", "+inf"])
MISSING = st.from_regex(r"nope_[a-z]{3,6}", fullmatch=True).map(lambda n: "${" + n + "}")
EMPTY = st.sampled_from(["''", "[]"])
BOOLS = st.sampled_from(["true", "false"])
LISTS = st.lists(st.integers(1, 9), min_size=1, max_size=3).map(lambda v: "[" + ",".join(map(str, v)) + "]")
HUGE = st.integers(INT64_LIMIT, 2**90).map(str)


def _number(value: float) -> str:
    return repr(float(value))


def hostile(rule: Rule) -> st.SearchStrategy[tuple[str, str]]:
    """Bad values for one rule, labelled by class: one strategy per class that this rule must refuse."""
    return st.one_of(*[strategy.map(lambda text, kind=kind: (kind, text)) for kind, strategy in classes(rule).items()])


def classes(rule: Rule) -> dict[str, st.SearchStrategy[str]]:
    """class of bad value -> a strategy of override texts of that class, for the classes the rule refuses."""
    found = {"missing interpolation": MISSING, "nan/inf": NAN_INF}
    if isinstance(rule, Int):
        found["float for integer"] = st.integers(max(rule.low, 0), 1000).map(lambda v: f"{v}.{5 if v % 2 else 0}")
        below = [st.integers(-1000, rule.low - 1).map(str)]
        found["out of range"] = st.one_of(*below, *([st.integers(rule.high + 1, rule.high + 1000).map(str)] if rule.high else []))
        found["huge"] = HUGE
        found["empty"] = EMPTY
        found["wrong type"] = st.one_of(WORDS, BOOLS, LISTS)
    elif isinstance(rule, Float):
        outside = []
        if rule.low is not None:
            edge = [rule.low] if rule.low_open else [rule.low - 1]
            outside.append(st.one_of(st.floats(-1e6, rule.low, exclude_max=True), st.sampled_from(edge)).map(_number))
        if rule.high is not None:
            edge = [rule.high] if rule.high_open else [rule.high + 1]
            outside.append(st.one_of(st.floats(rule.high, 1e6, exclude_min=True), st.sampled_from(edge)).map(_number))
        found["out of range"] = st.one_of(*outside)
        found["huge"] = st.sampled_from(["1e400", "-1e400", "1e999"])
        found["empty"] = EMPTY
        found["wrong type"] = st.one_of(WORDS, BOOLS, LISTS)
    elif isinstance(rule, Choice):
        if all(isinstance(v, int) for v in rule.values):
            found["float for integer"] = st.sampled_from(rule.values).map(lambda v: f"{v}.0")
            found["out of range"] = st.integers(max(rule.values) + 1, 10**6).map(str)
        found["wrong type"] = st.one_of(WORDS.filter(lambda w: w not in map(str, rule.values)), BOOLS, LISTS,
                                        *([] if all(isinstance(v, int) for v in rule.values) else [st.integers(-5, 99).map(str)]))  # fmt: skip
        found["empty"] = EMPTY
    elif isinstance(rule, Bool):
        found["wrong type"] = st.one_of(st.integers(0, 9).map(str), WORDS, LISTS)
        found["empty"] = EMPTY
    elif isinstance(rule, (Text, Features)):
        words = [WORDS] if isinstance(rule, Features) or getattr(rule, "pattern", "") else []  # text the rule refuses
        found["wrong type"] = st.one_of(st.integers(0, 999).map(str), LISTS, BOOLS, *words)
        found["empty"] = st.just("''")
    elif isinstance(rule, IntList):
        found["out of range"] = st.sampled_from(["[0]", "[-3]", f"[{INT64_LIMIT}]"])
        found["float for integer"] = st.sampled_from(["[1.5]", "[2.0]", "[64.0,32]"])
        found["wrong type"] = st.one_of(st.integers(1, 99).map(str), WORDS, BOOLS, st.just("[x]"))
    elif isinstance(rule, NumberPair):
        found["out of range"] = st.sampled_from(["[2,3]", "[-1,0.5]", "[0.5,1.5]"])
        found["wrong type"] = st.one_of(st.sampled_from(["[0.5]", "[0.1,0.2,0.3]", "[a,b]"]), WORDS, st.integers(0, 9).map(str))
        found["nan/inf"] = st.sampled_from(["nan", "[nan,0.5]", "[0.2,inf]"])
        found["empty"] = st.just("[]")
    elif isinstance(rule, Duration):
        found["out of range"] = st.integers(-99, 0).map(str)
        found["wrong type"] = st.one_of(WORDS, LISTS, BOOLS)
        found["empty"] = st.just("''")
    elif isinstance(rule, (Classes, ChoiceList)):
        found["out of range"] = st.sampled_from(["[-1]", "[[1]]"] + (["[bogus]"] if isinstance(rule, ChoiceList) else []))
        found["float for integer"] = st.just("[1.5]")
        found["wrong type"] = st.one_of(st.integers(0, 9).map(str), BOOLS)
        found["empty"] = st.just("[]")
    else:
        raise AssertionError(f"no hostile strategy for {type(rule).__name__}: add one")
    return found


# --- the property ------------------------------------------------------------------------------------
def refused_in_one_line(argv: list[str], key: str, cwd) -> None:
    """The real entry point refuses argv: exit 2, one error line naming the key, no traceback, nothing written."""
    result = run_cli(*argv, cwd=cwd)
    shown = " ".join(argv)
    assert result.returncode == 2, f"{shown}: exit {result.returncode}\n{result.stderr[-800:]}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and key in errors[0], f"{shown}: {result.stderr[-800:]}"
    assert not any(cwd.iterdir()), f"{shown} wrote {sorted(p.name for p in cwd.iterdir())}"


@pytest.fixture
def no_training(monkeypatch):
    """A value that slips through validation must fail the property quickly, not start a training run."""

    def slipped_through(cfg, run_dir):
        raise RuntimeError("validation let the value through")

    monkeypatch.setattr(train_command, "run_training", slipped_through)


def check_key(key: str, base: list[str], rule: Rule, folder) -> set[str]:
    """Draw CASES_PER_KEY hostile values for key and check each; returns the distinct texts tried."""
    tried: set[str] = set()
    base = [o for o in base + BASE_EXTRA.get(base[0] if base else "", []) if not o.startswith(key + "=")]

    @DRAWS
    @given(hostile(rule))
    def refused(case):
        kind, text = case
        tried.add(text)
        COVERAGE[key][kind] += 1
        refused_in_one_line(["train", *base, f"{key}={text}"], key, folder)

    refused()
    return tried


@pytest.mark.parametrize("key,base,rule", KEYS, ids=[k for k, _, _ in KEYS])
def test_every_schema_key_refuses_hostile_values(key, base, rule, tmp_path, no_training):
    tried = check_key(key, base, rule, tmp_path)
    assert len(tried) >= 5, f"{key}: only {sorted(tried)} drawn"


def test_removing_a_schema_rule_breaks_the_property(tmp_path, monkeypatch, no_training):
    """The schema is what refuses: without optim.lr_G's rule, nan reaches training and the property fails."""
    monkeypatch.delitem(schema.COMMON, "optim.lr_G")
    with pytest.raises(AssertionError, match="optim.lr_G=nan: exit 1"):
        refused_in_one_line(["train", "optim.lr_G=nan"], "optim.lr_G", tmp_path)


# --- the other commands' key=value options ----------------------------------------------------------
def option_rules() -> list[tuple[str, str, Rule]]:
    """(command, option key, its rule) for every option parsed by a schema rule."""
    found = []
    for command, options in (("generate", generate.OPTIONS), ("interpolate", interpolate.OPTIONS),
                             ("evaluate", evaluate.options()), ("probe", probe.OPTIONS)):  # fmt: skip
        for option in options:
            rule = getattr(option.parse, "__self__", None)
            if isinstance(rule, Rule):
                found.append((command, option.key, rule))
    return found


OPTION_RULES = option_rules()


@pytest.mark.parametrize("command,key,rule", OPTION_RULES, ids=[f"{c}:{k}" for c, k, _ in OPTION_RULES])
def test_every_command_option_refuses_hostile_values(command, key, rule, tmp_path):
    tried: set[str] = set()

    @DRAWS
    @given(hostile(rule))
    def refused(case):
        kind, text = case
        tried.add(text)
        COVERAGE[f"{command} {key}"][kind] += 1
        # the option is parsed before the run directory is opened: a missing one is never reached
        refused_in_one_line([command, "no-such-run", f"{key}={text}"], f"{key}=", tmp_path)

    refused()
    assert len(tried) >= 5, f"{command} {key}: only {sorted(tried)} drawn"
