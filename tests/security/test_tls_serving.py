"""TLS for teams without a proxy: `--tls-cert` / `--tls-key` serve HTTPS; boto3 trusting the
certificate works, with signatures checked as over HTTP; half a configuration, or a key that is
not the certificate's, stops the server with what to fix. The certificate is made here, now."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, SSLError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import REPO_ROOT, Server, free_port, start_server
from tests.support.signing import ALICE, write_credentials
from tests.support.zips import make_zip


def self_signed(directory: Path, name: str = "lambkin-test") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(data)
    credentials = write_credentials(data / "credentials.toml")
    args = ("--tls-cert", str(cert), "--tls-key", str(key), "--credentials-file", str(credentials))
    server = start_server("process", data, args=args, ca_file=cert)
    yield server
    assert server.stop() == 0, server.log()


def test_boto3_trusting_the_certificate_works_over_https(https_server: Server) -> None:
    assert https_server.endpoint.startswith("https://127.0.0.1:")
    lam = https_server.client("lambda", ALICE.access_key, ALICE.secret_key)
    name = f"tls-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role="arn:aws:iam::000000000000:role/x",
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 'over tls'\n"})},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == "over tls"
    wrong = https_server.client("lambda", ALICE.access_key, "wrong-secret-000000000000")
    with pytest.raises(ClientError) as caught:
        wrong.list_functions()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_a_client_not_trusting_the_certificate_is_refused(https_server: Server) -> None:
    client = boto3.client(  # the system's CA bundle: the self-signed certificate is not in it
        "lambda", endpoint_url=https_server.endpoint, region_name="us-east-1",
        aws_access_key_id=ALICE.access_key, aws_secret_access_key=ALICE.secret_key,
    )  # fmt: skip
    with pytest.raises(SSLError):
        client.list_functions()


def test_plain_http_to_the_https_port_gets_no_api(https_server: Server) -> None:
    plain = https_server.endpoint.replace("https://", "http://")
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{plain}/healthz", timeout=5).read()
    context = ssl.create_default_context(cafile=https_server.ca_file)
    with urllib.request.urlopen(f"{https_server.endpoint}/healthz", context=context) as response:
        assert response.status == 200


def serve(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "serve", "--port", str(free_port()),
         "--driver", "process", "--data-dir", str(data_dir), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip


def test_tls_options_are_both_or_neither_and_must_match(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "one")
    _, other_key = self_signed(tmp_path, "two")
    only_cert = serve(tmp_path, "--tls-cert", str(cert))
    assert only_cert.returncode == 2
    assert "--tls-cert needs --tls-key too" in " ".join(only_cert.stderr.split())
    only_key = serve(tmp_path, "--tls-key", str(key))
    assert only_key.returncode == 2
    assert "--tls-key needs --tls-cert too" in " ".join(only_key.stderr.split())
    missing = serve(tmp_path, "--tls-cert", str(tmp_path / "gone.crt"), "--tls-key", str(key))
    assert missing.returncode == 2
    assert "gone.crt: no such file" in " ".join(missing.stderr.split())
    mismatched = serve(tmp_path, "--tls-cert", str(cert), "--tls-key", str(other_key))
    assert mismatched.returncode == 2
    assert f"cannot use --tls-cert {cert} with --tls-key {other_key}" in " ".join(
        mismatched.stderr.split()
    )
