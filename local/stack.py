"""The embedded local stack: AWS (moto server), the HTTP API and the vendor stand-ins on loopback.

Everything is built from template.yaml: tables, secrets, the SES configuration set, the
functions (run in-process) and the state machine with its substitutions.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from local.lambdas import InProcessLambdas
from local.template import ACCOUNT, REGION, ROOT, LocalTemplate

STATE_DIR = ROOT / ".local"

# Local secrets: documented in the README, overridden by the environment variables of the same name.
DEFAULT_SECRETS = {
    "HUBSPOT_CLIENT_SECRET": "local-hubspot-client-secret",
    # A Standard Webhooks secret: "whsec_" + base64 of the key bytes.
    "SAVEDESK_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"savedesk-local-webhook-key-0001").decode(),
    "TYPEFORM_SECRET": "local-typeform-secret",
}
VENDOR_TOKENS = {
    "slack_bot_token": "xoxb-local-savedesk",
    "clickup_token": "pk_local_savedesk",
    "stripe_api_key": "sk_test_local_savedesk",
    "topline_api_key": "tl_admin_local",
    "mailfold_api_key": "mf_local_key",
}


def local_secrets() -> dict[str, str]:
    return {name: os.environ.get(name, default) for name, default in DEFAULT_SECRETS.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Ports:
    aws: int = 5000
    api: int = 3000
    sandbox: int = 5100

    @classmethod
    def free(cls) -> Ports:
        return cls(aws=free_port(), api=free_port(), sandbox=free_port())


@dataclass
class LocalStack:
    ports: Ports = field(default_factory=Ports)
    state_dir: Path = STATE_DIR
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    log_level: str | None = None  # the handlers' Powertools log level; None keeps the template's
    template: LocalTemplate = field(init=False)
    lambdas: InProcessLambdas = field(init=False)
    sandbox_app: Any = field(init=False)
    _servers: list[tuple[BaseWSGIServer, threading.Thread]] = field(default_factory=list, init=False)
    _moto: Any = field(default=None, init=False)

    # -- addresses --------------------------------------------------------------------------

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.aws}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sandbox}"

    @property
    def outbox(self) -> Path:
        return self.state_dir / "outbox"

    @property
    def calls_log(self) -> Path:
        return self.state_dir / "sandbox" / "calls.jsonl"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> LocalStack:
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.calls_log.parent.mkdir(parents=True, exist_ok=True)
        self._configure_process_environment()
        self._start_sandbox()

        overrides = {
            "PublicBaseUrl": self.api_url,
            "SlackApiBase": f"{self.sandbox_url}/slack/api",
            "ClickUpApiBase": f"{self.sandbox_url}/clickup/api/v2",
            "StripeApiBase": f"{self.sandbox_url}/stripe",
            "ToplineApiBase": f"{self.sandbox_url}/topline",
            "MailfoldApiBase": f"{self.sandbox_url}/mailfold",
            "MeetingReminderAfterSeconds": "30",
            "MeetingEscalateAfterSeconds": "60",
            "MailfoldEnabled": "true",
            **self.parameter_overrides,
        }
        self.template = LocalTemplate(overrides)
        os.environ.update(self.template.environment())
        if self.log_level:
            os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level

        timeouts = self._function_timeouts()
        self.lambdas = InProcessLambdas(self.template.functions(), timeouts)
        self.lambdas.install_into_moto()
        self._install_outbox()
        self._start_moto()
        self._provision()
        self._start_api()
        return self

    def stop(self) -> None:
        for server, thread in reversed(self._servers):
            server.shutdown()
            thread.join(timeout=5)
        self._servers.clear()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- pieces -----------------------------------------------------------------------------

    def _configure_process_environment(self) -> None:
        # One line per request from three servers drowns the timeline; errors still show.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto's interpreter logs every caught state error (timeouts we wait for, retried errors) at
        # ERROR level; the execution history has them all.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        os.environ.update(
            {
                "MOTO_PORT": str(self.ports.aws),  # moto's Step Functions interpreter calls Lambda here
                "AWS_ENDPOINT_URL": self.aws_url,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's dummy credentials
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
                "SAVEDESK_LOCAL": "true",
            }
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)

    def _function_timeouts(self) -> dict[str, float]:
        default = float(self.template.raw["Globals"]["Function"].get("Timeout", 3))
        return {
            logical_id: float(resource["Properties"].get("Timeout", default))
            for logical_id, resource in self.template.of_type("AWS::Serverless::Function").items()
        }

    def _serve(self, app: Any, port: int, name: str) -> None:
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        self._servers.append((server, thread))

    def _start_sandbox(self) -> None:
        from local.sandbox.app import create_app

        self.sandbox_app = create_app(self.calls_log.parent)
        self._serve(self.sandbox_app, self.ports.sandbox, "sandbox")

    def _start_moto(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        default_user_config.update({"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}})
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports.aws, verbose=False)
        self._moto.start()

    def _install_outbox(self) -> None:
        """Every email moto's SES accepts is also written to .local/outbox as .eml and .html."""
        from moto.sesv2.models import SESV2Backend

        original = SESV2Backend.send_raw_email
        outbox = self.outbox

        def send_raw_email(backend: Any, source: str, destinations: list[str], raw_data: str) -> Any:
            message = original(backend, source, destinations, raw_data)
            write_outbox(outbox, message.id, raw_data)
            return message

        SESV2Backend.send_raw_email = send_raw_email  # type: ignore[method-assign,assignment]

    def _provision(self) -> None:
        import boto3

        session = boto3.session.Session(region_name=REGION)
        dynamodb = session.client("dynamodb", endpoint_url=self.aws_url)
        for logical_id, resource in self.template.of_type("AWS::DynamoDB::Table").items():
            props = resource["Properties"]
            kwargs: dict[str, Any] = {
                "TableName": self.template.physical[logical_id],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            dynamodb.create_table(**kwargs)

        secrets = session.client("secretsmanager", endpoint_url=self.aws_url)
        values = local_secrets()
        secret_values = {
            "WebhookSecrets": {
                "hubspot_client_secrets": [values["HUBSPOT_CLIENT_SECRET"]],
                "standard_webhook_secrets": [values["SAVEDESK_WEBHOOK_SECRET"]],
                "typeform_secrets": [values["TYPEFORM_SECRET"]],
            },
            "VendorSecrets": VENDOR_TOKENS,
        }
        for logical_id in self.template.of_type("AWS::SecretsManager::Secret"):
            secrets.create_secret(
                Name=self.template.physical[logical_id], SecretString=json.dumps(secret_values[logical_id])
            )

        sesv2 = session.client("sesv2", endpoint_url=self.aws_url)
        sesv2.create_email_identity(EmailIdentity=self.template.parameters["SenderDomain"])
        for logical_id in self.template.of_type("AWS::SES::ConfigurationSet"):
            sesv2.create_configuration_set(ConfigurationSetName=self.template.physical[logical_id])

        iam = session.client("iam", endpoint_url=self.aws_url)
        role = iam.create_role(
            RoleName="savedesk-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lambda_client = session.client("lambda", endpoint_url=self.aws_url)
        for fn in self.template.functions().values():
            lambda_client.create_function(
                FunctionName=fn.name,
                Runtime="python3.13",
                Role=role,
                Handler=f"{fn.module}.{fn.attribute}",
                Code={"ZipFile": _empty_zip()},
            )

        _, arn, definition = self.template.state_machine()
        sfn = session.client("stepfunctions", endpoint_url=self.aws_url)
        sfn.create_state_machine(name=arn.rsplit(":", 1)[-1], definition=definition, roleArn=role, type="STANDARD")

    def _start_api(self) -> None:
        from local.api import LocalHttpApi

        names = {logical_id: fn.name for logical_id, fn in self.template.functions().items()}
        self._serve(LocalHttpApi(self.template.routes(), self.lambdas, names), self.ports.api, "http-api")

    # -- for the demo and tests ---------------------------------------------------------------

    @property
    def state_machine_arn(self) -> str:
        return self.template.state_machine()[1]

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session(region_name=REGION).client(service, endpoint_url=self.aws_url)

    def vendor(self, name: str) -> Any:
        """A stand-in's in-memory state (Slack channels, ClickUp tasks, Stripe objects ...)."""
        return self.sandbox_app.extensions["vendors"][name]

    def reset_sandbox(self) -> None:
        from local.sandbox.app import reset

        reset(self.sandbox_app)

    @property
    def calls(self) -> Any:
        return self.sandbox_app.extensions["calls"]

    @property
    def faults(self) -> Any:
        return self.sandbox_app.extensions["faults"]

    def sent_emails(self) -> list[Message]:
        """Messages moto's SES accepted, oldest first."""
        from moto.ses.models import ses_backends

        backend = ses_backends[ACCOUNT][REGION]
        return [
            email.message_from_string(m.raw_data, policy=email.policy.default)
            for m in backend.sent_messages
            if hasattr(m, "raw_data")
        ]


def write_outbox(outbox: Path, message_id: str, raw_data: str) -> None:
    message = email.message_from_string(raw_data)
    stem = outbox / message_id
    stem.with_suffix(".eml").write_text(raw_data, encoding="utf-8")
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                stem.with_suffix(".html").write_bytes(payload)
            break


def _empty_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "# the local stack runs the project's handlers in-process\n")
    return buffer.getvalue()
