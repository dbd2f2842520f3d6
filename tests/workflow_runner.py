"""Run a GitHub Actions job's `run:` steps here, in order, under their `if:` conditions.

What the tests of the nightly job need, and no more: the steps' shell scripts run with
bash as a hosted runner runs them (`bash --noprofile --norc -eo pipefail`), in a folder
standing for the checkout, with the workflow's, the job's and the step's `env:`;
`uses:` steps do nothing and succeed when their condition holds; steps the caller
names are skipped as done (the install: the tests' environment is installed already).
Expressions `${{ ... }}` are evaluated for the subset GitHub defines that the workflow
uses (contexts github, env, secrets, vars, steps; `!`, `&&`, `||`, `==`, `!=`, literals,
parentheses; success(), failure(), always(), cancelled()); anything else raises, so a
workflow that grows past this subset fails its tests instead of being misread.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>&&|\|\||==|!=|!|\(|\)|\.)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read the expression {text!r} at {text[position:]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    """GitHub's coercion for comparing values of different types."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return value
    try:
        return float(value.strip() or 0)
    except ValueError:
        return float("nan")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()  # GitHub compares strings ignoring case
    if type(a) is type(b):
        return a == b
    return _number(a) == _number(b)


class _Parser:
    """Recursive descent, GitHub's precedence: ! over ==/!= over && over ||."""

    def __init__(self, text: str, contexts: dict, job_status: str):
        self.tokens, self.at, self.contexts, self.job_status = _tokens(text), 0, contexts, job_status
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ValueError(f"expected {value or 'more'} in {self.text!r}")
        self.at += 1
        return token

    def parse(self) -> Any:
        value = self.either()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return value

    def either(self) -> Any:
        value = self.both()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.both()
            value = value if _truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if _truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        if self.peek() in (("op", "=="), ("op", "!=")):
            operator = self.take()[1]
            same = _equal(value, self.unary())
            return same if operator == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            value = self.either()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind != "name":
            raise ValueError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == ("op", "("):
            self.take()
            self.take(")")
            if text not in STATUS_FUNCTIONS:
                raise ValueError(f"the function {text}() is outside what this runner evaluates")
            return {"success": self.job_status == "success", "failure": self.job_status == "failure",
                    "always": True, "cancelled": False}[text]
        if text not in self.contexts:
            raise ValueError(f"the context {text!r} is outside what this runner evaluates")
        value = self.contexts[text]
        while self.peek() == ("op", "."):
            self.take()
            _, key = self.take()
            value = value.get(key) if isinstance(value, dict) else None
        return value


class Unset(dict):
    """Secrets and variables: one that is not set reads as an empty string."""

    def get(self, key, default=None):
        return super().get(key, "")


def evaluate(text: str, contexts: dict, job_status: str = "success") -> Any:
    return _Parser(text, contexts, job_status).parse()


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interpolate(text: str, contexts: dict) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _as_text(evaluate(m.group(1), contexts)), str(text))


def condition(text: Any, contexts: dict, job_status: str) -> bool:
    if text is None:
        text = "success()"
    text = str(text).strip()
    if isinstance(text, str) and text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not any(re.search(rf"\b{name}\(\)", text) for name in STATUS_FUNCTIONS):
        text = f"success() && ({text})"  # GitHub's implicit status check
    return _truthy(evaluate(text, contexts, job_status))


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    output: str = ""


@dataclass
class JobRun:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.outcome == "failure" for s in self.steps)

    def step(self, name: str) -> StepResult:
        [found] = [s for s in self.steps if s.name == name]
        return found

    @property
    def output(self) -> str:
        return "".join(f"--- {s.name} [{s.outcome}]\n{s.output}" for s in self.steps)


def _name(step: dict) -> str:
    return step.get("name") or step.get("uses") or step["run"].splitlines()[0]


def run_job(workflow: Path, job: str, workspace: Path, *, base_env: dict, secrets: dict | None = None,
            variables: dict | None = None, skip: tuple[str, ...] = (), timeout: float = 300) -> JobRun:
    """Run `job` of `workflow` in `workspace`; base_env is the runner's own environment (PATH, HOME)."""
    spec = yaml.safe_load(workflow.read_text())
    job_spec = spec["jobs"][job]
    contexts: dict[str, Any] = {
        "github": {"token": "stand-in-token", "repository": "owner/talks"},
        "secrets": Unset(secrets or {}),
        "vars": Unset(variables or {}),
        "steps": {},
        "env": {},
    }
    env: dict[str, str] = {}
    for level in (spec.get("env") or {}, job_spec.get("env") or {}):
        for key, value in level.items():
            env[key] = interpolate(value, contexts)
            contexts["env"] = dict(env)
    run = JobRun()
    runner_temp = Path(tempfile.mkdtemp(prefix="runner-temp-", dir=workspace.parent))
    for step in job_spec["steps"]:
        name, status = _name(step), "failure" if run.failed else "success"
        contexts["env"] = dict(env)
        if not condition(step.get("if"), contexts, status):
            result = StepResult(name, "skipped")
        elif "uses" in step or name in skip:
            result = StepResult(name, "success")
        else:
            step_env = {key: interpolate(value, contexts) for key, value in (step.get("env") or {}).items()}
            script = runner_temp / "step.sh"
            script.write_text(interpolate(step["run"], contexts))
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                env={**base_env, **env, **step_env, "CI": "true", "GITHUB_ACTIONS": "true",
                     "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(runner_temp)},
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
            )
            result = StepResult(name, "success" if done.returncode == 0 else "failure", done.stdout)
        run.steps.append(result)
        if "id" in step:
            contexts["steps"][step["id"]] = {"outcome": result.outcome, "conclusion": result.outcome}
    return run
