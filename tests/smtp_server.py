"""A small SMTP server on loopback for the email channel's tests (Python 3.12 has no
smtpd, and aiosmtpd is not installed here). It speaks enough of RFC 5321 for smtplib:
EHLO/HELO, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. ``fault`` makes it
refuse sign-in ("auth"), drop the connection once the message is received, before its
250 reply ("drop"), or answer the message with 451 ("busy")."""

from __future__ import annotations

import base64
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class State:
    username: str = "news"
    password: str = "secret"
    fault: str = ""
    messages: list[Received] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    state: State

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        state = self.server.state  # type: ignore[attr-defined]
        self.reply("220 civicloop-test ESMTP")
        sender, recipients, authed = "", [], False
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-civicloop-test\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == "AUTH":
                parts = line.split()
                if parts[1].upper() == "PLAIN":
                    _zid, user, password = base64.b64decode(parts[2]).decode().split("\0")
                else:
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.rfile.readline().strip()).decode()
                    self.reply("334 UGFzc3dvcmQ6")
                    password = base64.b64decode(self.rfile.readline().strip()).decode()
                authed = (
                    state.fault != "auth" and user == state.username and password == state.password
                )
                self.reply("235 OK" if authed else "535 Authentication failed")
            elif verb == "MAIL":
                if not authed:
                    self.reply("530 Authentication required")
                    continue
                sender, recipients = line.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = line.split(":", 1)[1].strip().strip("<>")
                if address.endswith("@refused.example"):
                    self.reply("550 No such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                data = b"".join(lines)
                if state.fault == "drop":
                    state.messages.append(Received(sender, recipients, data))
                    return  # the message arrived; the reply never does
                if state.fault == "busy":
                    self.reply("451 Try again later")
                    continue
                state.messages.append(Received(sender, recipients, data))
                self.reply("250 Queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start() -> tuple[_Server, State]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = State()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.state  # type: ignore[attr-defined]
