"""An email newsletter sent over SMTP to a list of addresses.

One message per post, each recipient in the envelope only (no one sees the list). The
message id is made from the delivery's key, so a copy that arrives twice is the same
message to mail clients. SMTP has no way to ask whether a message was sent (so no
``find``): if the connection drops after the message was handed over, the delivery is
unconfirmed and a person checks the sender's copy (civicloop sends one to the From
address) before retrying."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from civicloop.channels.base import (
    AuthExpired,
    Field,
    Image,
    Published,
    Rejected,
    Temporary,
    Transport,
    Unconfirmed,
)

TIMEOUT = 20


def recipients_of(text: str) -> list[str]:
    addresses: list[str] = []
    for line in str(text).replace(",", "\n").splitlines():
        address = line.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise Rejected(f"{address} is not an email address.") from exc
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return addresses


def subject_of(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= 78 else first[:75].rsplit(" ", 1)[0] + "…"


class EmailTransport(Transport):
    network = "email"
    label = "Email newsletter"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("host", "SMTP server", help="For example smtp.ashworth.gov.uk"),
        Field("port", "Port", kind="int", initial="587"),
        Field(
            "security",
            "Security",
            kind="choice",
            initial="starttls",
            choices=(
                ("starttls", "STARTTLS (usually port 587)"),
                ("ssl", "TLS from the start (usually port 465)"),
                ("none", "None (only for a server on this machine)"),
            ),
        ),
        Field("username", "User name", required=False),
        Field("password", "Password", kind="password", required=False),
        Field("from_address", "From address", kind="email"),
        Field(
            "recipients",
            "Send to",
            kind="textarea",
            help="One address per line: a mailing list's address or the subscribers themselves.",
        ),
    )

    def _open(self, credentials: dict[str, Any]) -> smtplib.SMTP:
        host, port = credentials["host"], int(credentials["port"])
        try:
            if credentials.get("security") == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=TIMEOUT, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
                if credentials.get("security", "starttls") == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if credentials.get("username"):
                smtp.login(credentials["username"], credentials.get("password", ""))
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthExpired(
                "The mail server refused the user name and password: reconnect."
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise Temporary(f"The mail server could not be reached ({exc}).") from exc
        return smtp

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        recipients = recipients_of(credentials.get("recipients", ""))
        if not recipients:
            raise Rejected("Give at least one address to send to.")
        smtp = self._open(credentials)
        try:
            smtp.noop()
        finally:
            smtp.close()
        return {
            **credentials,
            "port": int(credentials["port"]),
            "recipients": "\n".join(recipients),
            "handle": f"{credentials['from_address']} to {len(recipients)} address"
            + ("" if len(recipients) == 1 else "es"),
        }

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        sender = credentials["from_address"]
        recipients = recipients_of(credentials["recipients"])
        message = EmailMessage()
        message["From"] = sender
        message["To"] = sender
        message["Subject"] = subject_of(text)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(idstring=key, domain="civicloop")
        body = text
        if image is not None:
            body += f"\n\n[Image: {image.alt}]" if image.alt else ""
        message.set_content(body)
        if image is not None:
            maintype, _slash, subtype = image.content_type.partition("/")
            message.add_attachment(image.data, maintype=maintype, subtype=subtype, filename="image")
        smtp = self._open(credentials)
        try:
            refused = smtp.send_message(message, from_addr=sender, to_addrs=[sender, *recipients])
        except smtplib.SMTPRecipientsRefused as exc:
            raise Rejected("The mail server refused every address on the list.") from exc
        except smtplib.SMTPSenderRefused as exc:
            raise Rejected(f"The mail server refused the From address {sender}.") from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            raise Unconfirmed(
                "The mail server stopped answering while the newsletter was sent: check the "
                "sender's copy before retrying."
            ) from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise Temporary(f"The mail server asked to try later ({exc.smtp_code}).") from exc
            raise Rejected(f"The mail server refused the newsletter ({exc.smtp_code}).") from exc
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        sent = len(recipients) - len([r for r in refused if r != sender])
        return Published(remote_id=f"{message['Message-ID']} ({sent} sent)"[:300], url="")
