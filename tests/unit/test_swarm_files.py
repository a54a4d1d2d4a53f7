"""What the swarm driver sends to a node: a function's files as a tar stream, and the tag its
runtime image is published under."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from orchestrator.drivers.swarm import tar_of
from orchestrator.drivers.swarm_images import build_context, published_tag


def test_tar_of_keeps_modes_and_links_and_drops_owners(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mod.py").write_text("x = 1\n")
    (tmp_path / "bootstrap").write_text("#!/bin/sh\n")
    (tmp_path / "bootstrap").chmod(0o755)
    os.symlink("/etc", tmp_path / "etc")  # stored as a link, never followed
    with tarfile.open(fileobj=io.BytesIO(tar_of(tmp_path))) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"bootstrap", "etc", "lib", "lib/mod.py"}
    assert members["bootstrap"].mode & 0o777 == 0o755
    assert members["etc"].issym() and members["etc"].linkname == "/etc"
    assert {(m.uid, m.gid, m.uname) for m in members.values()} == {(0, 0, "")}


@pytest.mark.parametrize(
    ("image_id", "agent", "tag"),
    [
        ("sha256:" + "a" * 64, "b" * 64, "a" * 16 + "-" + "b" * 16),
        ("c" * 64, "d" * 64, "c" * 16 + "-" + "d" * 16),
    ],
)
def test_published_tag_names_the_image_and_the_agent(image_id: str, agent: str, tag: str) -> None:
    assert published_tag(image_id, agent) == tag


def test_the_published_image_is_the_runtime_image_pinned_plus_the_agent(tmp_path: Path) -> None:
    agent = tmp_path / "lambkin-agent"
    agent.write_bytes(b"\x7fELF...")
    with tarfile.open(fileobj=io.BytesIO(build_context("sha256:" + "e" * 64, agent))) as tar:
        dockerfile = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
        binary = tar.getmember("lambkin-agent")
    assert dockerfile.splitlines()[:2] == [
        "FROM sha256:" + "e" * 64,
        "COPY lambkin-agent /var/lambkin/agent/lambkin-agent",
    ]
    assert binary.mode == 0o755 and binary.uid == 0
