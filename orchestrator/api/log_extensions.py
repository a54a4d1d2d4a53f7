"""Lambkin's additions to CloudWatch Logs' answers, each asked for by a request header, so an AWS
SDK, which sends none of them, gets AWS's answers exactly.

- `Lambkin-Log-Origin: include`: each event of GetLogEvents and FilterLogEvents also says whether
  the platform wrote it (START, END, REPORT, ...) or the function printed it
  (`"lambkinOrigin": "platform" | "function"`). The text of both is as AWS stores it, so a
  function can print a perfect copy of a REPORT line; only this field, set by the agent and never
  by what a function prints, tells them apart.
- `Lambkin-Log-Node: include`: each event of GetLogEvents and FilterLogEvents, and each stream of
  DescribeLogStreams, also names the node its instance ran on (`"lambkinNode"`), on a driver of
  several machines (swarm); there is none on one machine.
- `Lambkin-Log-Node-Filter: <node>`: DescribeLogStreams and FilterLogEvents answer only for the
  streams of instances that ran on that node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ORIGIN_HEADER = "lambkin-log-origin"
ORIGIN_KEY = "lambkinOrigin"
NODE_HEADER = "lambkin-log-node"
NODE_FILTER_HEADER = "lambkin-log-node-filter"
NODE_KEY = "lambkinNode"

# A node is named by its hostname (RFC 1123 labels; Docker's node names are hostnames too).
_NODE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?$")


class InvalidExtension(ValueError):
    """A Lambkin header with a value that cannot be right: the caller's message says why."""


@dataclass(frozen=True)
class LogExtensions:
    origin: bool = False
    node: bool = False
    only_node: str | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> LogExtensions:
        """From a request's headers (keys lower-case, as Starlette gives them)."""
        only_node = headers.get(NODE_FILTER_HEADER, "").strip() or None
        if only_node is not None and not _NODE_NAME.match(only_node):
            raise InvalidExtension(
                "Lambkin-Log-Node-Filter must be a node's hostname (letters, digits, '.', '_'"
                " and '-', at most 254): `lambkin instances` names each instance's node."
            )
        return cls(
            origin=_included(headers.get(ORIGIN_HEADER)),
            node=_included(headers.get(NODE_HEADER)),
            only_node=only_node,
        )


def _included(value: str | None) -> bool:
    return (value or "").strip().lower() == "include"
