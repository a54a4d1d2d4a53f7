"""The credentials file loader: the documented format loads; every bad file is refused with the
key it concerns, its table's line and what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.credentials import CredentialsError, load, parse
from orchestrator.permissions import Grant, Permission

GOOD = """\
# lambkin credentials: one table per user, one per execution role
[users.alice]
access_key_id = "AKIDALICE0000000000"
secret_access_key = "alice-secret-0000000000"
permissions = ["admin"]

[users.ci]
access_key_id = "AKIDCI00000000000000"
secret_access_key = "ci-secret-00000000000000"
permissions = ["deploy:orders-*", "invoke:orders-*", "read"]

[roles."arn:aws:iam::000000000000:role/orders"]  # what functions with this Role may do
permissions = ["invoke:orders-*"]
"""


def test_the_documented_format_loads() -> None:
    credentials = parse(GOOD)
    alice, ci = credentials.users
    assert (alice.name, alice.access_key_id, alice.permissions) == (
        "alice",
        "AKIDALICE0000000000",
        (Permission(Grant.ADMIN),),
    )
    assert ci.permissions == (
        Permission(Grant.DEPLOY, "orders-*"),
        Permission(Grant.INVOKE, "orders-*"),
        Permission(Grant.READ),
    )
    assert credentials.user_by_key()["AKIDCI00000000000000"] is ci
    assert alice.arn("000000000000") == "arn:aws:iam::000000000000:user/alice"
    role = credentials.role("arn:aws:iam::000000000000:role/orders")
    assert role is not None and role.permissions == (Permission(Grant.INVOKE, "orders-*"),)
    assert credentials.role("arn:aws:iam::000000000000:role/other") is None
    assert "alice-secret" not in repr(credentials)  # secrets stay out of logs and tracebacks


def test_load_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(GOOD)
    assert len(load(path).users) == 2
    with pytest.raises(CredentialsError, match=r"cannot read the credentials file .*nope.toml"):
        load(tmp_path / "nope.toml")


KEY_ID = 'access_key_id = "AKIDBOB0000000000000"\n'
SECRET = 'secret_access_key = "bob-secret-0000000000"\n'
READ = 'permissions = ["read"]\n'
USER = "[users.bob]\n" + KEY_ID + SECRET
ROLE_O = '[roles."arn:aws:iam::000000000000:role/o"]\n'


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[users.bob\n", r"not valid TOML: .*line 1"),
        ("", r"users: no users: add a \[users.<name>\] table"),
        ('[roles."arn:aws:iam::000000000000:role/x"]\npermissions = []\n', "no users"),
        (USER, r":1: users.bob.permissions: missing: add permissions = "),
        (USER + 'permissions = "admin"\n', r"users.bob.permissions: must be a list of strings"),
        (
            USER + 'permissions = ["write"]\n',
            r":1: users.bob.permissions\[0\]: unknown permission 'write'",
        ),
        (
            USER + 'permissions = ["read", "deploy"]\n',
            r"users.bob.permissions\[1\]: 'deploy' needs a function-name pattern",
        ),
        (
            USER + 'permissions = ["read"]\nrole = "x"\n',
            r"users.bob.role: unknown key; expected access_key_id, permissions, secret_access_key",
        ),
        (
            '[users.bob]\nsecret_access_key = "bob-secret-0000000000"\npermissions = ["read"]\n',
            r"users.bob.access_key_id: missing: add access_key_id = ",
        ),
        (
            '[users.bob]\naccess_key_id = "AKIDBOB0000000000000"\npermissions = ["read"]\n',
            r"users.bob.secret_access_key: missing",
        ),
        (
            "[users.bob]\n" + 'access_key_id = "akid-bob"\n' + SECRET + READ,
            r"users.bob.access_key_id: 16 to 128 upper-case letters and digits",
        ),
        (
            "[users.bob]\n" + KEY_ID + 'secret_access_key = "short"\n' + READ,
            r"users.bob.secret_access_key: at least 16 characters",
        ),
        (
            "[users.bob]\naccess_key_id = 12\n" + SECRET + READ,
            r"users.bob.access_key_id: must be a non-empty string",
        ),
        (
            USER + 'permissions = ["read"]\n\n[users.eve]\naccess_key_id = "AKIDBOB0000000000000"\n'
            'secret_access_key = "eve-secret-0000000000"\npermissions = ["read"]\n',
            r":6: users.eve.access_key_id: the same key as users.bob",
        ),
        (
            USER + 'permissions = ["read"]\n[roles.orders]\npermissions = ["invoke:*"]\n',
            r":5: roles.orders: the key must be a role ARN, quoted",
        ),
        (
            USER + READ + ROLE_O + 'permissions = ["invoke"]\n',
            r'role/o".permissions\[0\]: \'invoke\' needs a function-name pattern',
        ),
        (
            USER + 'permissions = ["read"]\n[groups.x]\n',
            r"groups: unknown key; expected roles, users",
        ),
        ('users = "alice"\n', r"users: must be tables"),
    ],
)
def test_bad_files_are_refused_clearly(text: str, says: str) -> None:
    with pytest.raises(CredentialsError, match=says):
        parse(text, "creds.toml")


def test_every_problem_is_listed_at_once() -> None:
    text = '[users.bob]\naccess_key_id = "x"\nsecret_access_key = "y"\npermissions = ["z"]\n'
    with pytest.raises(CredentialsError) as caught:
        parse(text, "creds.toml")
    message = str(caught.value)
    assert message.count("creds.toml:1: users.bob.") == 3, message
