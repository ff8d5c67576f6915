"""Against a real IMAP server: Debian's dovecot, started unprivileged on a free loopback port with a
passwd-file user and a Maildir in a temporary directory (``scripts/test`` installs ``dovecot-imapd`` when it
runs as root). A mail is put into the folder with IMAP APPEND and taken in through the real poll."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from needpool.intake.mailin.models import InboundMail, InboundStatus, MailSecurity
from needpool.intake.mailin.services import mail_poll
from needpool.requirements.models import Feedback
from tests.intake.mailin.conftest import gbk_mail, make_mail, make_source

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
SETPRIV = shutil.which("setpriv")

pytestmark = pytest.mark.skipif(
    DOVECOT is None, reason="dovecot is not installed (apt-get install dovecot-imapd): real IMAP test skipped"
)

USER, PASSWORD = "feedback", "app-pass-9"


@dataclass
class Server:
    port: int
    root: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, account: pwd.struct_passwd) -> str:
    group = account.pw_gid
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {account.pw_name}
default_internal_group = {_group_name(group)}
default_login_user = {account.pw_name}
first_valid_uid = {account.pw_uid}
last_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[Server]:
    as_root = os.geteuid() == 0
    if as_root and SETPRIV is None:
        pytest.skip("running as root without setpriv: dovecot cannot be started unprivileged")
    account = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.getuid())
    root = Path(tempfile.mkdtemp(prefix="needpool-imap-"))
    for sub in ("run", "state", "home", "mail"):
        (root / sub).mkdir()
    port = _free_port()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::\n")
    (root / "dovecot.conf").write_text(_config(root, port, account))
    if as_root:
        for path in [root, *root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
    command = [DOVECOT or "dovecot", "-F", "-c", str(root / "dovecot.conf")]
    if as_root:
        command = [
            SETPRIV or "setpriv",
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--clear-groups",
            *command,
        ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _attempt in range(100):  # bounded wait for the listener (at most ~10 s)
            if process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.skip("dovecot did not start listening")
        if process.poll() is not None:
            output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
            pytest.skip(f"dovecot did not start: {output[-300:]}")
        yield Server(port=port, root=root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


def _client(server: Server) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    client.login(USER, PASSWORD)
    return client


def _append(server: Server, raw: bytes) -> None:
    client = _client(server)
    try:
        status, _data = client.append("INBOX", None, None, raw)
        assert status == "OK"
    finally:
        client.logout()


def _unseen(server: Server) -> list[bytes]:
    client = _client(server)
    try:
        client.select("INBOX", readonly=True)
        return client.uid("SEARCH", "UNSEEN")[1][0].split()
    finally:
        client.logout()


def test_a_mail_appended_to_a_real_mailbox_becomes_feedback_and_its_reply_threads(db, imap_server, customer):
    source = make_source(
        host="127.0.0.1", port=imap_server.port, security=MailSecurity.PLAIN, username=USER, password=PASSWORD
    )
    _append(imap_server, make_mail(subject="真实服务器上的反馈", message_id="<real-1@a-tech.com.cn>").as_bytes())
    _append(imap_server, gbk_mail(subject="售后响应太慢", body="发货慢", message_id="<real-2@b-corp.cn>"))
    assert len(_unseen(imap_server)) == 2

    result = mail_poll(source_id=source.pk)
    assert result.error == "" and result.counts == {"created": 2}
    first = InboundMail.objects.get(message_id="<real-1@a-tech.com.cn>")
    assert first.feedback.customer == customer and first.feedback.raw_text.startswith("真实服务器上的反馈")
    assert InboundMail.objects.get(message_id="<real-2@b-corp.cn>").feedback.raw_text.startswith("售后响应太慢")
    assert _unseen(imap_server) == []  # marked \Seen after the commit
    source.refresh_from_db()
    assert source.last_uid == 2 and source.uid_validity

    _append(
        imap_server,
        make_mail(subject="Re: 真实服务器上的反馈", body="补充一句", in_reply_to="<real-1@a-tech.com.cn>").as_bytes(),
    )
    assert mail_poll(source_id=source.pk).counts == {"threaded": 1}
    assert mail_poll(source_id=source.pk).counts == {}  # nothing new
    assert Feedback.objects.count() == 2
    assert InboundMail.objects.filter(status=InboundStatus.THREADED, thread_feedback=first.feedback).count() == 1


def test_a_wrong_password_on_a_real_server_is_reported(db, imap_server):
    source = make_source(
        host="127.0.0.1", port=imap_server.port, security=MailSecurity.PLAIN, username=USER, password="wrong"
    )
    result = mail_poll(source_id=source.pk)
    assert "AUTHENTICATIONFAILED" in result.error or "login" in result.error.lower()
