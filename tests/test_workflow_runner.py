"""The expression subset tests/workflow_runner.py evaluates means what GitHub Actions says it means
(docs.github.com, "Evaluate expressions in workflows and actions"), and anything else is refused."""
from __future__ import annotations

import pytest

from tests.workflow_runner import Unset, condition, evaluate, interpolate

CONTEXTS = {
    "secrets": Unset({"GCP_CREDENTIALS": "{}"}),
    "vars": Unset({"KEEP_NIGHTS": "3"}),
    "env": {"HAS_GCP": "true"},
    "steps": {"restore": {"outcome": "failure"}, "gcp": {"outcome": "success"}},
    "github": {"token": "t"},
}


@pytest.mark.parametrize("text, value", [
    ("secrets.GCP_CREDENTIALS != ''", True),
    ("secrets.MISSING != ''", False),  # a secret or variable not set is ''
    ("vars.KEEP_NIGHTS || '7'", "3"),
    ("vars.NOT_SET || '7'", "7"),
    ("vars.NOT_SET && 'x'", ""),
    ("steps.nosuch.outcome == ''", True),  # null and '' are both 0 to a comparison of two types
    ("env.HAS_GCP == true", False),  # 'true' is NaN as a number
    ("env.HAS_GCP == 'TRUE'", True),  # strings compare ignoring case
    ("!(steps.restore.outcome == 'success')", True),
    ("steps.nosuch.outcome", None),
    ("'it''s'", "it's"),
])
def test_expressions(text, value):
    assert evaluate(text, CONTEXTS) == value


@pytest.mark.parametrize("text, status, runs", [
    (None, "success", True),
    (None, "failure", False),
    ("steps.gcp.outcome == 'success'", "failure", False),  # the implicit success() &&
    ("${{ !cancelled() && steps.gcp.outcome == 'success' }}", "failure", True),
    ("${{ !cancelled() && steps.restore.outcome == 'success' }}", "success", False),
    ("always()", "failure", True),
    ("failure()", "failure", True),
])
def test_step_conditions(text, status, runs):
    assert condition(text, CONTEXTS, status) is runs


def test_interpolation_writes_booleans_and_null_as_actions_does():
    assert interpolate("${{ secrets.GCP_CREDENTIALS != '' }}/${{ secrets.NOT_SET != '' }}/${{ vars.NOT_SET }}/"
                       "${{ steps.nosuch.outcome }}/${{ vars.KEEP_NIGHTS }}", CONTEXTS) == "true/false///3"


@pytest.mark.parametrize("text", ["hashFiles('x')", "inputs.x == 1", "a ? b : c", "matrix.x", "1 < 2"])
def test_what_the_runner_does_not_know_is_refused(text):
    with pytest.raises(ValueError):
        evaluate(text, CONTEXTS)
