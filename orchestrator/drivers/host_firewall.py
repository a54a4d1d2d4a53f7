"""What instances may reach on the host itself: only the ports meant for them.

Docker lets a container open connections to every port of its host: the bridge's gateway
address, and any other address of the host (Linux answers on all of them, whichever interface a
packet came in on). A function could then reach the control plane's API, a database on the
host, or anything else listening there. Lambkin adds, for its instances' bridge, one iptables
chain jumped to from INPUT for packets arriving on that bridge:

  - replies to connections the host opened pass (the control plane -> each agent);
  - new connections to the ports meant for instances (`LAMBKIN_INSTANCE_HOST_PORTS`) pass;
  - everything else is refused (TCP reset, ICMP port-unreachable otherwise), so a probe fails
    at once instead of hanging.

A server with `LAMBKIN_INSTANCE_HOST_ACCESS=open` adds one rule letting everything through while
it runs (the network's other servers' instances too: the chain is the network's).

Outbound traffic (to other machines, through Docker's NAT) goes through FORWARD, not INPUT, and
stays allowed, as on Lambda. Servers sharing one network share its chain: each server's ports
are rules tagged with its id, and every change rebuilds the whole chain atomically
(`iptables-restore --noflush`) under a host-wide lock, keeping the other servers' rules.

The rules are built by pure functions (tested with tables); `HostFirewall` runs iptables.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

CHAIN_PREFIX = "LAMBKIN-"
COMMENT_PREFIX = "lambkin-server="
LOCK_PATHS = (Path("/run/lock/lambkin-host-firewall.lock"), Path("/tmp/lambkin-host-firewall.lock"))
_RULE_PORT = re.compile(r"-p tcp .*--dport (\d+) .*--comment \"?" + COMMENT_PREFIX + r"([\w.-]+)")
_RULE_ALL = re.compile(r"^-A \S+ -m comment --comment \"?" + COMMENT_PREFIX + r"([\w.-]+)")
EVERY_PORT = 0  # in a server's ports: LAMBKIN_INSTANCE_HOST_ACCESS=open

Runner = Callable[[list[str], str | None], subprocess.CompletedProcess[str]]


class FirewallError(Exception):
    """iptables is missing or refused; the message says what to do."""


def chain_name(bridge: str) -> str:
    return (CHAIN_PREFIX + bridge)[:28]  # iptables' limit on chain names


def allowed_ports_in(saved_rules: str) -> dict[str, set[int]]:
    """Each server's allowed ports, from `iptables -S <chain>` output."""
    allowed: dict[str, set[int]] = {}
    for line in saved_rules.splitlines():
        if match := _RULE_PORT.search(line):
            allowed.setdefault(match[2], set()).add(int(match[1]))
        elif match := _RULE_ALL.search(line):
            allowed.setdefault(match[1], set()).add(EVERY_PORT)
    return allowed


def chain_rules(chain: str, allowed: Mapping[str, Iterable[int]]) -> list[str]:
    """The whole chain, in order: replies pass, allowed ports pass, the rest is refused."""
    rules = [f"-A {chain} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN"]
    for server in sorted(allowed):
        comment = f'-m comment --comment "{COMMENT_PREFIX}{server}"'
        if EVERY_PORT in allowed[server]:
            rules.append(f"-A {chain} {comment} -j RETURN")
            continue
        for port in sorted(set(allowed[server])):
            for protocol in ("tcp", "udp"):
                rules.append(
                    f"-A {chain} -p {protocol} -m {protocol} --dport {port} {comment} -j RETURN"
                )
    rules.append(f"-A {chain} -p tcp -j REJECT --reject-with tcp-reset")
    rules.append(f"-A {chain} -j REJECT --reject-with icmp-port-unreachable")
    return rules


def restore_input(chain: str, rules: list[str]) -> str:
    """iptables-restore input replacing just this chain (with --noflush, nothing else changes)."""
    return "*filter\n" + f":{chain} - [0:0]\n" + "\n".join(rules) + "\nCOMMIT\n"


def _run(args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30)


class HostFirewall:
    def __init__(
        self, bridge: str, server_id: str, ports: Iterable[int], runner: Runner = _run
    ) -> None:
        self.bridge = bridge
        self.chain = chain_name(bridge)
        self.server_id = server_id
        self.ports = sorted(set(ports))
        self._run = runner

    def apply(self) -> None:
        """Install the chain (once per host) with this server's ports in it."""
        self._update(self.ports)

    def allow(self, port: int) -> None:
        """Let instances reach `port` too (the control plane's API, for functions with
        credentials)."""
        if EVERY_PORT in self.ports or port in self.ports:
            return
        self.ports = sorted({*self.ports, port})
        self.apply()

    def remove(self) -> None:
        """Take this server's ports out; the refusal stays for everyone else's instances."""
        self._update([])

    def _update(self, ports: list[int]) -> None:
        with _host_lock():
            existing = self._iptables("-S", self.chain, check=False)
            if existing.returncode != 0:  # first server on this network: make the chain
                self._iptables("-N", self.chain)
            allowed = allowed_ports_in(existing.stdout if existing.returncode == 0 else "")
            allowed.pop(self.server_id, None)
            if ports:
                allowed[self.server_id] = set(ports)
            rules = chain_rules(self.chain, allowed)
            self._restore(restore_input(self.chain, rules))
            jump = ["INPUT", "-i", self.bridge, "-j", self.chain]
            if self._iptables("-C", *jump, check=False).returncode != 0:
                self._iptables("-I", "INPUT", "1", *jump[1:])

    def _iptables(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._call(["iptables", "-w", *args], None, check)

    def _restore(self, text: str) -> None:
        self._call(["iptables-restore", "-w", "--noflush"], text, True)

    def _call(
        self, args: list[str], stdin: str | None, check: bool
    ) -> subprocess.CompletedProcess[str]:
        try:
            done = self._run(args, stdin)
        except FileNotFoundError:
            raise FirewallError(
                f"{args[0]} is not installed, so Lambkin cannot stop instances from reaching "
                "this host's ports: install it (apt-get install iptables), or set "
                "LAMBKIN_INSTANCE_HOST_ACCESS=open to accept that they can"
            ) from None
        if check and done.returncode != 0:
            raise FirewallError(
                f"`{' '.join(args)}` failed ({done.stderr.strip() or done.returncode}), so "
                "Lambkin cannot stop instances from reaching this host's ports: run the server "
                "as root (or with CAP_NET_ADMIN), or set LAMBKIN_INSTANCE_HOST_ACCESS=open to "
                "accept that they can"
            )
        return done


@contextmanager
def _host_lock() -> Iterator[None]:
    """One server at a time rebuilds a chain (iptables' own -w lock covers single commands)."""
    for path in LOCK_PATHS:
        try:
            lock = path.open("a")
            break
        except OSError:
            continue
    else:
        raise FirewallError(f"cannot open a lock file ({', '.join(map(str, LOCK_PATHS))})")
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock
