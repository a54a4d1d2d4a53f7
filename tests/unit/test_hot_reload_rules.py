"""Hot reload's rules as tables: which functions a changed path concerns, and which S3Bucket /
S3Key pairs name an allowed folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import LambdaError
from orchestrator.hot_reload import folder_code_sha256, hot_reload_folder, owners_of

FOLDERS = {Path("/src/orders"): ["orders", "orders-admin"], Path("/src/users"): ["users"]}


@pytest.mark.parametrize(
    ("changed", "owners"),
    [
        (["/src/orders/app.py"], {"orders", "orders-admin"}),
        (["/src/orders/lib/deep/x.py"], {"orders", "orders-admin"}),
        (["/src/orders"], {"orders", "orders-admin"}),
        (["/src/users/app.py", "/src/orders/a"], {"orders", "orders-admin", "users"}),
        (["/src/orders-old/app.py"], set()),  # a sibling whose name starts the same
        (["/src/app.py"], set()),
        ([], set()),
    ],
)
def test_owners_of_changed_paths(changed: list[str], owners: set[str]) -> None:
    assert owners_of(changed, FOLDERS) == owners


def test_allowed_folders_and_refusals(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "fn").mkdir(parents=True)
    assert hot_reload_folder("another-bucket", "/x", [root]) is None  # not hot reload
    assert hot_reload_folder("hot-reload", str(root / "fn"), [root]) == (root / "fn").resolve()
    assert hot_reload_folder("hot-reload", str(root), [root]) == root.resolve()
    for key in (str(tmp_path), "fn", str(root / "fn" / ".." / ".."), None, 7):
        with pytest.raises(LambdaError):
            hot_reload_folder("hot-reload", key, [root])
    with pytest.raises(LambdaError, match="not enabled"):
        hot_reload_folder("hot-reload", str(root / "fn"), [])


def test_a_folders_code_sha_is_stable_and_its_own() -> None:
    first = folder_code_sha256(Path("/src/orders"))
    assert first == folder_code_sha256(Path("/src/orders"))
    assert first != folder_code_sha256(Path("/src/users"))
    assert len(first[0]) == 64 and first[1].endswith("=")
