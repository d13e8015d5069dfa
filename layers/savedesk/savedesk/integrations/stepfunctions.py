"""Step Functions: start the case's workflow, resume a waiting task."""

from __future__ import annotations

import json
from typing import Any

from savedesk.errors import PermanentError, TransientError

_TRANSIENT = {
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
    "ExecutionLimitExceeded",
    "RequestTimeout",
}


class TaskNotWaiting(PermanentError):
    """The token's task is no longer waiting (already resumed, timed out, or the execution ended)."""


def execution_input(case_id: str) -> str:
    # Built the same way every time: StartExecution is idempotent only for an identical input.
    return json.dumps({"case_id": case_id}, separators=(",", ":"))


class Workflow:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("stepfunctions")
        self.arn = state_machine_arn
        self.client = client

    def start(self, case_id: str) -> None:
        """Start the case's execution, named after the case; one that already exists counts as started."""
        try:
            self.client.start_execution(stateMachineArn=self.arn, name=case_id, input=execution_input(case_id))
        except self.client.exceptions.ExecutionAlreadyExists:
            return
        except Exception as exc:
            raise _translate("StartExecution", exc) from exc

    def resume(self, token: str, output: dict[str, Any]) -> None:
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output, default=str))
        except (
            self.client.exceptions.TaskTimedOut,
            self.client.exceptions.TaskDoesNotExist,
            self.client.exceptions.InvalidToken,
        ) as exc:
            raise TaskNotWaiting(f"stepfunctions: task is not waiting ({type(exc).__name__})") from exc
        except Exception as exc:
            raise _translate("SendTaskSuccess", exc) from exc


def _translate(operation: str, exc: Exception) -> Exception:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if (
        code in _TRANSIENT
        or status >= 500
        or type(exc).__name__ in {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"}
    ):
        return TransientError(f"stepfunctions: {operation} failed ({code or type(exc).__name__})")
    return exc
