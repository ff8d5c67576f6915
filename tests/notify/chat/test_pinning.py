"""With internal addresses refused, a send connects to the very address that was checked: a second DNS answer
(rebinding) cannot move it elsewhere, and HTTPS still names and verifies the URL's own host."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from needpool.notify.chat import platforms
from needpool.notify.chat.platforms import Message
from needpool.notify.registry import SendError
from tests.notify.chat.conftest import Receiver

HOST = "bot.example.test"
MESSAGE = Message(title="需求池", text="测试")


def _certificate(tmp_path: Path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def rebinding_dns(monkeypatch: Any, settings: Any) -> list[str]:
    """``HOST`` answers 127.0.0.1 once, then no longer resolves; 127.0.0.1 counts as public for the test."""
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False
    monkeypatch.setattr(platforms, "_refused", lambda address: False)
    asked: list[str] = []
    real = socket.getaddrinfo

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == HOST:
            asked.append(host)
            if len(asked) > 1:
                raise socket.gaierror("rebound")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return asked


def test_http_goes_to_the_checked_address_with_the_hosts_name(
    receiver: Callable[..., Receiver], rebinding_dns: list[str]
) -> None:
    bot = receiver("wecom", host=HOST)
    answer = platforms.post("wecom", bot.url, "", MESSAGE)
    assert answer.status == 200 and len(bot.accepted) == 1
    assert bot.calls[0]["host"] == f"{HOST}:{bot.port}" and rebinding_dns == [HOST]


def test_https_verifies_the_hosts_certificate_at_the_checked_address(
    receiver: Callable[..., Receiver], rebinding_dns: list[str], tmp_path: Path, monkeypatch: Any
) -> None:
    cert, key = _certificate(tmp_path, HOST)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    bot = receiver("slack", host=HOST, tls=(cert, key))
    answer = platforms.post("slack", bot.url, "", MESSAGE)
    assert answer.status == 200 and len(bot.accepted) == 1 and rebinding_dns == [HOST]


def test_https_refuses_a_certificate_for_another_host(
    receiver: Callable[..., Receiver], rebinding_dns: list[str], tmp_path: Path, monkeypatch: Any
) -> None:
    cert, key = _certificate(tmp_path, "other.example.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    bot = receiver("slack", host=HOST, tls=(cert, key))
    with pytest.raises(SendError, match="SSLError"):
        platforms.post("slack", bot.url, "", MESSAGE)
    assert not bot.accepted
