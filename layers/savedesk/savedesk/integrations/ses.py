"""SES v2: send a rendered email (HTML + text, optional attachments) as one MIME message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

from savedesk.errors import PermanentError, TransientError

_TRANSIENT = {"TooManyRequestsException", "Throttling", "ThrottlingException", "InternalFailure", "ServiceUnavailable"}
_TAG_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class Rendered(Protocol):
    template: str
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    mime_type: str  # e.g. "text/calendar; method=REQUEST"


def _tag(value: str) -> str:
    # SES tag values allow letters, digits, '_' and '-' only.
    return _TAG_SAFE.sub("-", value)[:256]


def build_message(
    sender: str,
    sender_name: str,
    to: list[str],
    rendered: Rendered,
    *,
    reply_to: str | None = None,
    cc: list[str] | None = None,
    attachments: list[Attachment] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = rendered.subject.replace("\r", " ").replace("\n", " ")
    message["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments or []:
        maintype, _, rest = attachment.mime_type.partition("/")
        subtype, *params = [p.strip() for p in rest.split(";")]
        part_params = dict(p.split("=", 1) for p in params if "=" in p)
        message.add_attachment(
            attachment.content.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=part_params,
        )
    return message


class Mailer:
    def __init__(self, sender: str, sender_name: str, configuration_set: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sesv2")
        self.sender = sender
        self.sender_name = sender_name
        self.configuration_set = configuration_set
        self.client = client

    def send(
        self,
        to: list[str],
        rendered: Rendered,
        *,
        case_id: str,
        reply_to: str | None = None,
        cc: list[str] | None = None,
        attachments: list[Attachment] | None = None,
    ) -> str:
        """Send and return SES's MessageId. Tags carry the case and template to bounce records."""
        message = build_message(
            self.sender, self.sender_name, to, rendered, reply_to=reply_to, cc=cc, attachments=attachments
        )
        try:
            response = self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": to, "CcAddresses": cc or []},
                Content={"Raw": {"Data": message.as_bytes()}},
                ConfigurationSetName=self.configuration_set,
                EmailTags=[
                    {"Name": "case_id", "Value": _tag(case_id)},
                    {"Name": "template", "Value": _tag(rendered.template)},
                ],
            )
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in _TRANSIENT or type(exc).__name__ in {
                "EndpointConnectionError",
                "ReadTimeoutError",
                "ConnectTimeoutError",
            }:
                raise TransientError(f"ses: {code or type(exc).__name__}") from exc
            if code:
                # MessageRejected, SendingPaused, daily quota (LimitExceeded): a retry in seconds won't help.
                raise PermanentError(f"ses: {code}: {exc}") from exc
            raise
        return str(response["MessageId"])
