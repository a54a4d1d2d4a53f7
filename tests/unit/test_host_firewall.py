"""The host firewall's rules as data: what each server's ports become, and back."""

from __future__ import annotations

import subprocess

import pytest

from orchestrator.drivers.host_firewall import (
    EVERY_PORT,
    FirewallError,
    HostFirewall,
    allowed_ports_in,
    chain_name,
    chain_rules,
    restore_input,
)

C = "LAMBKIN-br-0062b974a18f"


def port(protocol: str, number: int, server: str) -> str:
    comment = f'-m comment --comment "lambkin-server={server}"'
    return f"-A {C} -p {protocol} -m {protocol} --dport {number} {comment} -j RETURN"


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (
            {},
            [
                f"-A {C} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                f"-A {C} -p tcp -j REJECT --reject-with tcp-reset",
                f"-A {C} -j REJECT --reject-with icmp-port-unreachable",
            ],
        ),
        (
            {"b2": [9000, 5432, 5432], "a1": [53]},
            [
                f"-A {C} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                port("tcp", 53, "a1"),
                port("udp", 53, "a1"),
                port("tcp", 5432, "b2"),
                port("udp", 5432, "b2"),
                port("tcp", 9000, "b2"),
                port("udp", 9000, "b2"),
                f"-A {C} -p tcp -j REJECT --reject-with tcp-reset",
                f"-A {C} -j REJECT --reject-with icmp-port-unreachable",
            ],
        ),
        (
            {"open1": [EVERY_PORT, 80]},
            [
                f"-A {C} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
                f'-A {C} -m comment --comment "lambkin-server=open1" -j RETURN',
                f"-A {C} -p tcp -j REJECT --reject-with tcp-reset",
                f"-A {C} -j REJECT --reject-with icmp-port-unreachable",
            ],
        ),
    ],
)
def test_chain_rules(allowed: dict[str, list[int]], expected: list[str]) -> None:
    assert chain_rules(C, allowed) == expected


def test_rules_read_back_as_iptables_prints_them() -> None:
    """`iptables -S` writes the conntrack states in its own order; the ports still come back."""
    saved = "\n".join(
        [
            f"-N {C}",
            f"-A {C} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
            *chain_rules(C, {"srv-1": [8080, 9000], "s.2": [EVERY_PORT]})[1:],
        ]
    )
    assert allowed_ports_in(saved) == {"srv-1": {8080, 9000}, "s.2": {EVERY_PORT}}
    assert allowed_ports_in("") == {}


def test_chain_names_fit_iptables() -> None:
    assert chain_name("br-0062b974a18f") == C
    assert len(chain_name("a-very-long-bridge-name-indeed")) == 28


def test_restore_input_replaces_only_its_chain() -> None:
    text = restore_input(C, ["-A x"])
    assert text == f"*filter\n:{C} - [0:0]\n-A x\nCOMMIT\n"


def test_missing_iptables_says_what_to_do() -> None:
    def missing(args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(args[0])

    with pytest.raises(FirewallError, match="apt-get install iptables.*INSTANCE_HOST_ACCESS=open"):
        HostFirewall("br-x", "s", [], runner=missing).apply()


def test_refused_iptables_says_what_to_do() -> None:
    def refused(args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 4, "", "Permission denied (you must be root)")

    with pytest.raises(FirewallError, match="Permission denied.*run the server as root"):
        HostFirewall("br-x", "s", [], runner=refused).apply()


def test_allowing_a_port_later_rewrites_the_chain_with_it() -> None:
    restored: list[str] = []

    def iptables(args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        if args[0] == "iptables-restore":
            restored.append(stdin or "")
        return subprocess.CompletedProcess(args, 0, "", "")

    firewall = HostFirewall("br-x", "s", [5432], runner=iptables)
    firewall.allow(9000)
    firewall.allow(9000)  # already allowed: nothing more to do
    assert len(restored) == 1 and firewall.ports == [5432, 9000]
    assert "--dport 9000" in restored[0] and "--dport 5432" in restored[0]
    opened = HostFirewall("br-x", "s", [EVERY_PORT], runner=iptables)
    opened.allow(9000)  # every port is open already
    assert len(restored) == 1
