"""The web console as an attacker meets it: a real server with a credentials file, and plain
HTTP requests (httpx) doing what a hostile page, a stolen cookie or a curious user would try.

Every page calls the API signed as its user, so what a principal may do is what the API allows;
these probes check the console adds no way around that: sessions, CSRF, the sign-in form, the
escaping of what functions contain, and that the console's path prefix opens nothing else.
"""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server, start_server
from tests.support.signing import ALICE, AUDITOR, ApiUser, write_credentials
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::000000000000:role/orders"
ZIP = make_zip({"app.py": "def handler(event, context):\n    return 'hi'\n"})
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("console-security")
    credentials = write_credentials(root / "credentials.toml")
    credentials.chmod(0o600)
    srv = start_server("process", root / "data", args=("--credentials-file", str(credentials)))
    yield srv
    assert srv.stop() == 0, srv.log()


def browser(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.endpoint, follow_redirects=False, timeout=30)


def signed_in(server: Server, user: ApiUser) -> tuple[httpx.Client, str]:
    """A client holding `user`'s session cookie, and that session's CSRF token."""
    client = browser(server)
    answer = client.post(
        "/console/sign-in",
        data={"access_key_id": user.access_key, "secret_access_key": user.secret_key},
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/console/functions")
    assert page.status_code == 200
    token = page.text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
    return client, token


def make_function(server: Server, **extra: object) -> str:
    lam = server.client(access_key=ALICE.access_key, secret_key=ALICE.secret_key)
    name = f"orders-console-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ZIP},
        **extra,
    )
    return name


def memory_of(server: Server, name: str) -> int:
    lam = server.client(access_key=ALICE.access_key, secret_key=ALICE.secret_key)
    return int(lam.get_function_configuration(FunctionName=name)["MemorySize"])


def test_the_session_cookie_is_httponly_strict_and_scoped(server: Server) -> None:
    answer = browser(server).post(
        "/console/sign-in",
        data={"access_key_id": ALICE.access_key, "secret_access_key": ALICE.secret_key},
    )
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("lambkin_console=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= flags, cookie
    assert ALICE.secret_key not in cookie and ALICE.access_key not in cookie


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        (ALICE.access_key, "alice-secret-0000000001"),
        ("AKIDNOBODY0000000000", ALICE.secret_key),
        (ALICE.access_key, ""),
        ("", ""),
        (ALICE.access_key, "x" * 100_000),
    ],
)
def test_wrong_keys_get_no_session(server: Server, key: str, secret: str) -> None:
    client = browser(server)
    answer = client.post(
        "/console/sign-in", data={"access_key_id": key, "secret_access_key": secret}
    )
    assert answer.status_code in (401, 422), answer.text
    assert "set-cookie" not in answer.headers
    assert client.get("/console/functions").headers["location"] == "/console/sign-in"


def test_a_forged_or_signed_out_cookie_is_sent_to_sign_in(server: Server) -> None:
    forged = browser(server)
    forged.cookies.set("lambkin_console", "guessed-session-id", path="/console")
    assert forged.get("/console/functions").headers["location"] == "/console/sign-in"
    client, token = signed_in(server, ALICE)
    stolen = client.cookies["lambkin_console"]
    out = client.post("/console/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    replay = browser(server)
    replay.cookies.set("lambkin_console", stolen, path="/console")
    assert replay.get("/console/functions").headers["location"] == "/console/sign-in"


def test_changes_need_the_sessions_own_csrf_token(server: Server) -> None:
    name = make_function(server)
    client, token = signed_in(server, ALICE)
    _, other_token = signed_in(server, ALICE)
    form = {"memory_size": "512", "timeout": "3"}
    for presented in ({}, {"csrf_token": ""}, {"csrf_token": other_token}, {"csrf_token": "x"}):
        answer = client.post(f"/console/functions/{name}/configuration", data={**form, **presented})
        assert answer.status_code == 403, answer.text
    assert (
        client.post(
            f"/console/functions/{name}/configuration",
            data=form,
            headers={"X-CSRF-Token": other_token},
        ).status_code
        == 403
    )
    assert memory_of(server, name) == 128  # nothing changed
    answer = client.post(
        f"/console/functions/{name}/configuration", data={**form, "csrf_token": token}
    )
    assert answer.status_code == 303 and memory_of(server, name) == 512
    # the audit trail names the user who changed it through the console, not the console
    records = [
        json.loads(line) for line in (server.data_dir / "audit.jsonl").read_text().splitlines()
    ]
    changes = [
        r
        for r in records
        if r["action"] == "lambda:UpdateFunctionConfiguration" and r["resource"].endswith(name)
    ]
    assert [(r["principal"], r["access_key_id"], r["status"]) for r in changes] == [
        ("alice", ALICE.access_key, 200)
    ]


def test_sign_in_from_another_origin_is_refused(server: Server) -> None:
    answer = browser(server).post(
        "/console/sign-in",
        data={"access_key_id": ALICE.access_key, "secret_access_key": ALICE.secret_key},
        headers={"Origin": "http://attacker.invalid"},
    )
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_a_reader_sees_but_cannot_change(server: Server) -> None:
    name = make_function(server)
    client, token = signed_in(server, AUDITOR)
    assert name in client.get("/console/functions").text
    answer = client.post(
        f"/console/functions/{name}/configuration",
        data={"memory_size": "1024", "timeout": "3", "csrf_token": token},
    )
    assert "AccessDeniedException" in answer.text and "not authorized" in answer.text
    assert memory_of(server, name) == 128
    created = client.post(
        "/console/functions",
        data={
            "function_name": "orders-by-reader",
            "runtime": "python3.11",
            "handler": "app.handler",
            "role": ROLE,
            "csrf_token": token,
        },
        files={"code": ("fn.zip", ZIP, "application/zip")},
    )
    assert "AccessDeniedException" in created.text
    lam = server.client(access_key=ALICE.access_key, secret_key=ALICE.secret_key)
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert "orders-by-reader" not in names


def test_what_a_function_holds_is_escaped_and_secrets_stay_masked(server: Server) -> None:
    name = make_function(
        server,
        Description=HOSTILE,
        Environment={"Variables": {"DB_PASSWORD": "hunter2-" + HOSTILE}},
        Tags={"team": HOSTILE},
    )
    client, _ = signed_in(server, ALICE)
    page = client.get(f"/console/functions/{name}").text
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "hunter2" not in page  # masked until revealed
    revealed = client.get(f"/console/functions/{name}/environment?reveal=true").text
    assert "hunter2-&lt;script&gt;" in revealed and HOSTILE not in revealed
    listing = client.get("/console/functions", params={"q": HOSTILE}).text
    assert HOSTILE not in listing


@pytest.mark.parametrize(
    "path",
    [
        "/console/../2015-03-31/functions",
        "/console/%2e%2e/2015-03-31/functions",
        "/console/static/../../orchestrator/app.py",
        "/console/static/%2e%2e/%2e%2e/app.py",
        "/console/static/..%2f..%2fapp.py",
        "/console/../metrics",
    ],
)
def test_the_console_prefix_opens_nothing_else(server: Server, path: str) -> None:
    """Raw paths, as a hostile client sends them (no normalising client in between)."""
    host, port = server.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)
    answer = connection.getresponse()
    body = answer.read()
    assert answer.status in (303, 400, 404), (answer.status, body[:200])
    assert b"Functions" not in body and b"import" not in body and b"lambkin_" not in body


def test_on_an_open_server_the_csrf_token_still_guards_changes(tmp_path: Path) -> None:
    srv = start_server("process", tmp_path / "open")
    try:
        lam = srv.client()
        lam.create_function(
            FunctionName="open-fn",
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": ZIP},
        )
        client = browser(srv)
        page = client.get("/console/functions")
        assert page.status_code == 200 and "open-fn" in page.text and "set-cookie" in page.headers
        forged = browser(srv).post(
            "/console/functions/open-fn/configuration", data={"memory_size": "512", "timeout": "3"}
        )
        assert forged.status_code == 403
        assert lam.get_function_configuration(FunctionName="open-fn")["MemorySize"] == 128
    finally:
        assert srv.stop() == 0, srv.log()


def test_replaying_dead_letters_needs_the_token_and_the_right_to_invoke(server: Server) -> None:
    name = make_function(server)
    reader, token = signed_in(server, AUDITOR)
    refused = reader.post("/console/async/replay", data={"function": name, "csrf_token": token})
    assert "AccessDeniedException" in refused.text and "ReplayDeadLetters" in refused.text
    admin, _ = signed_in(server, ALICE)
    assert admin.post("/console/async/replay", data={"function": name}).status_code == 403
    bad_id = admin.post(
        "/console/async/replay",
        data={"function": name, "request_id": "../../x", "csrf_token": signed_in(server, ALICE)[1]},
    )
    assert bad_id.status_code in (400, 403)


HOSTILE_QUERIES = [
    "/console/functions?q=" + "%3Cscript%3E" * 50,
    "/console/functions/..%2F..%2Fetc",
    "/console/functions/%3Cscript%3E",
    "/console/functions/" + "a" * 5000,
    "/console/functions/x/environment?reveal=maybe",
    "/console/instances?function=../../lambkin/instances",
    "/console/instances?function=%00%ff",
    "/console/logs?function=x&filter_pattern=%7B%20%24.a%20%3D%20",  # an unfinished JSON pattern
    "/console/logs?function=%3Cscript%3E&request_id=%22%20OR%20%22",
    "/console/logs?function=x&since=999y",
    "/console/logs/more?function=x&after=not-a-cursor",
    "/console/logs/more?function=x&after=" + "9" * 400 + "-1-1",
    "/console/metrics?function=%3Cscript%3E&window=forever",
    "/console/async?function=..%2Fx&replayed=-5",
    "/console/async?replayed=notanumber",
]


@pytest.mark.parametrize("path", HOSTILE_QUERIES)
def test_hostile_queries_get_a_page_not_a_crash(server: Server, path: str) -> None:
    client, _ = signed_in(server, ALICE)
    answer = client.get(path)
    assert answer.status_code < 500, answer.text[:500]
    assert "Traceback" not in answer.text and "<script>" not in answer.text
    assert "Internal server error" not in answer.text


@pytest.mark.parametrize(
    "path", ["/console/sign-in", "/console/functions", "/console/logs", "/console/nope"]
)
def test_pages_forbid_framing_inline_script_and_caching(server: Server, path: str) -> None:
    client, _ = signed_in(server, ALICE)
    answer = client.get(path)
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


def test_guessing_secrets_is_cut_off_after_ten_wrong_sign_ins(tmp_path: Path) -> None:
    credentials = write_credentials(tmp_path / "credentials.toml")
    credentials.chmod(0o600)
    srv = start_server("process", tmp_path / "data", args=("--credentials-file", str(credentials)))
    try:
        client = browser(srv)
        for attempt in range(10):
            wrong = {
                "access_key_id": ALICE.access_key,
                "secret_access_key": f"guess-{attempt:04d}-x",
            }
            assert client.post("/console/sign-in", data=wrong).status_code == 401
        right = {"access_key_id": ALICE.access_key, "secret_access_key": ALICE.secret_key}
        cut_off = client.post("/console/sign-in", data=right)
        assert cut_off.status_code == 429 and "set-cookie" not in cut_off.headers
        assert 1 <= int(cut_off.headers["retry-after"]) <= 301
        assert "Too many wrong sign-ins" in cut_off.text
        # the API itself is not the console's: signed requests still work meanwhile
        lam = srv.client(access_key=ALICE.access_key, secret_key=ALICE.secret_key)
        assert lam.list_functions()["Functions"] == []
    finally:
        assert srv.stop() == 0, srv.log()
