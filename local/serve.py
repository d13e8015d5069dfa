"""`make serve`: the local stack in the foreground, on its documented ports, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading

from local.stack import DEFAULT_SECRETS, LocalStack, Ports, local_secrets


def main() -> None:
    ports = Ports(
        aws=int(os.environ.get("MOTO_PORT", 5000)),
        api=int(os.environ.get("API_PORT", 3000)),
        sandbox=int(os.environ.get("SANDBOX_PORT", 5100)),
    )
    stack = LocalStack(ports=ports).start()
    secrets = local_secrets()
    print(f"""SaveDesk local stack
  HTTP API (webhooks)  {stack.api_url}   POST /webhooks/crm/hubspot, /webhooks/crm,
                                          /webhooks/forms/typeform, /webhooks/forms
  AWS (moto)           {stack.aws_url}   aws --endpoint-url {stack.aws_url} stepfunctions list-executions ...
  vendor stand-ins     {stack.sandbox_url}   /slack, /clickup, /stripe, /topline, /mailfold
  emails               {stack.outbox}/  (.eml + .html)
  vendor calls         {stack.calls_log}
Secrets (override with the environment variables of the same name):""")
    for name in DEFAULT_SECRETS:
        print(f"  {name}={secrets[name]}")
    print("Ctrl-C stops it.")
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    stack.stop()


if __name__ == "__main__":
    main()
