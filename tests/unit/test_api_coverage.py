"""The README's API coverage, counted against botocore's Lambda model: each operation whose
method and path the server's access table (actions.py, which has a row for every route the app
serves: test_actions.py) resolves to that operation's own action is implemented."""

from __future__ import annotations

import re
from pathlib import Path

import botocore
import botocore.session

from orchestrator.actions import resolve_rest
from orchestrator.permissions import ActionKind

README = Path(__file__).resolve().parents[2] / "README.md"
# IAM names an operation differently in these cases.
IAM_NAME = {
    "Invoke": "InvokeFunction",
    "InvokeWithResponseStream": "InvokeFunction",  # IAM has no action of its own for it
    "GetLayerVersionByArn": "ListLayers",  # ListLayers' path with ?find=LayerVersion
    "ListProvisionedConcurrencyConfigs": "GetProvisionedConcurrencyConfig",  # ?List=ALL
}


def implemented() -> tuple[list[str], int]:
    model = botocore.session.get_session().get_service_model("lambda")
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = re.sub(r"\{[^}]+\}", "x", http["requestUri"].split("?")[0])
        call = resolve_rest(http["method"], path, None)
        if call.action.kind is not ActionKind.ADMIN and call.action.name == (
            f"lambda:{IAM_NAME.get(name, name)}"
        ):
            found.append(name)
    return sorted(found), len(model.operation_names)


def test_the_readme_states_the_coverage_measured_here() -> None:
    found, total = implemented()
    stated = re.search(r"implements\s+\*\*(\d+) of the (\d+)\*\*\s+operations", README.read_text())
    assert stated, "the README's API section states 'implements **N of the M** operations'"
    assert int(stated[1]) == len(found), found
    # botocore grows: the README's total is from the model the count was made with.
    assert int(stated[2]) <= total, botocore.__version__
    for operation in ("PublishLayerVersion", "GetLayerVersionByArn", "CreateAlias", "Invoke"):
        assert operation in found
