"""template.yaml and the ASL, read as data: least privilege, no secrets, logs, alarms, task error handling.

What each step function may do is derived from the code it runs (which ports its step module
uses), so a step that starts sending email without a policy for it, or keeps a policy it no
longer needs, fails here rather than in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.stack import DEFAULT_SECRETS, VENDOR_TOKENS
from local.template import ROOT, TEMPLATE, load_template

TEMPLATE_DATA = load_template()
RESOURCES: dict[str, Any] = TEMPLATE_DATA["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
(STATE_MACHINE_ID,) = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::StateMachine"]
STATE_MACHINE = RESOURCES[STATE_MACHINE_ID]["Properties"]
ASL = json.loads((ROOT / STATE_MACHINE["DefinitionUri"]).read_text(encoding="utf-8"))

# Actions AWS offers no resource-level permission for; only these may name Resource "*".
NO_RESOURCE_LEVEL = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
# SAM policy templates the functions may use, each with the parameter that names its resource.
POLICY_TEMPLATES = {
    "DynamoDBCrudPolicy": "TableName",
    "AWSSecretsManagerGetSecretValuePolicy": "SecretArn",
    "StepFunctionsExecutionPolicy": "StateMachineName",
    "LambdaInvokePolicy": "FunctionName",
}
VENDOR_PORTS = ("slack", "clickup", "billing", "topline", "mailfold")


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement (a mapping with Effect and Action) anywhere under node."""
    if isinstance(node, dict):
        if "Effect" in node and "Action" in node:
            yield node
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def refs(node: Any) -> set[str]:
    """Logical ids a value points at through Ref, GetAtt or ${Name} inside Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}]+)\}", text))
            else:
                found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def policy_templates(policies: list[Any]) -> list[tuple[str, Any]]:
    return [
        (name, args)
        for item in policies
        if isinstance(item, dict)
        for name, args in item.items()
        if name != "Statement"
    ]


def granted(logical_id: str) -> set[str]:
    """What a function may do, as capabilities: ses, vendor_secrets, webhook_secrets, start, resume, table."""
    props = FUNCTIONS[logical_id]["Properties"]
    found: set[str] = set()
    for name, args in policy_templates(props.get("Policies", [])):
        if name == "DynamoDBCrudPolicy" and refs(args) == {"CasesTable"}:
            found.add("table")
        elif name == "AWSSecretsManagerGetSecretValuePolicy":
            found |= {"vendor_secrets"} if refs(args) == {"VendorSecrets"} else {"webhook_secrets"}
        elif name == "StepFunctionsExecutionPolicy":
            found.add("start")
    for statement in statements(props.get("Policies", [])):
        actions = set(as_list(statement["Action"]))
        if "ses:SendEmail" in actions:
            found.add("ses")
        if "states:SendTaskSuccess" in actions:
            found.add("resume")
    # Policies attached to the function's generated role from outside (they cannot name the state machine
    # from inside the function without a dependency cycle).
    for resource in RESOURCES.values():
        if resource["Type"] == "AWS::IAM::Policy" and f"{logical_id}Role" in refs(resource["Properties"]["Roles"]):
            for statement in statements(resource["Properties"]["PolicyDocument"]):
                if "states:SendTaskSuccess" in as_list(statement["Action"]):
                    found.add("resume")
    return found


def needed(logical_id: str) -> set[str]:
    """What a function's code uses, read from the handler and the step module it runs."""
    props = FUNCTIONS[logical_id]["Properties"]
    module = props["Handler"].rsplit(".", 1)[0]
    handler_source = (ROOT / props["CodeUri"] / f"{module}.py").read_text(encoding="utf-8")
    if logical_id == "IngressFunction":
        return {"table", "webhook_secrets", "start", "resume"}
    if "wait_handler()" in handler_source:
        return {"table", "resume"}
    (step_module,) = re.findall(r"from savedesk\.steps(?: import |\.)(\w+)", handler_source)
    step_source = (ROOT / "layers/savedesk/savedesk/steps" / f"{step_module}.py").read_text(encoding="utf-8")
    # A scheduled handler builds its ports itself; a workflow step's handler leaves that to the runtime.
    source = handler_source + step_source
    uses = {"table"}
    if "deps.mailer" in source:
        uses.add("ses")
    if any(f"deps.{port}" in source for port in VENDOR_PORTS):
        uses.add("vendor_secrets")
    if "deps.workflow" in source:
        uses.add("resume")
    return uses


# -- least privilege ------------------------------------------------------------------------


def test_no_wildcard_action_anywhere() -> None:
    for statement in statements(RESOURCES):
        for action in as_list(statement["Action"]):
            assert isinstance(action, str), statement
            assert action != "*" and not action.endswith(":*"), f"wildcard action {action!r} in {statement}"


def test_resource_star_only_for_actions_without_resource_level_permissions() -> None:
    for statement in statements(RESOURCES):
        if "*" in as_list(statement.get("Resource")):
            assert set(as_list(statement["Action"])) <= NO_RESOURCE_LEVEL, statement


def test_the_only_resource_star_statement_is_documented_in_the_template() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    star_lines = [n for n, line in enumerate(text.splitlines()) if line.strip() == 'Resource: "*"']
    assert star_lines, "the state machine's log delivery statement is expected"
    lines = text.splitlines()
    for n in star_lines:
        before = "\n".join(lines[max(0, n - 16) : n])
        assert "no resource-level permissions" in before, f"line {n + 1}: Resource '*' without its reason"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_has_only_policies_scoped_to_named_resources(logical_id: str) -> None:
    policies = FUNCTIONS[logical_id]["Properties"].get("Policies")
    assert policies, f"{logical_id} has no Policies: SAM would give it none, or a template default"
    for item in policies:
        assert isinstance(item, dict), f"{logical_id}: managed policy {item!r}; use a scoped template or statement"
        for name, args in item.items():
            if name == "Statement":
                continue
            assert name in POLICY_TEMPLATES, f"{logical_id}: unexpected policy template {name}"
            target = args[POLICY_TEMPLATES[name]]
            assert target != "*" and refs(target), f"{logical_id}: {name} must name a resource of this template"
    for statement in statements(policies):
        resources = as_list(statement["Resource"])
        assert "*" not in resources, f"{logical_id}: {statement}"
        assert all(refs(r) for r in resources), f"{logical_id}: a resource not tied to this template: {statement}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_gets_exactly_what_its_code_uses(logical_id: str) -> None:
    assert granted(logical_id) == needed(logical_id)


def test_ses_is_limited_to_the_sender_identity_and_configuration_set() -> None:
    for logical_id, resource in FUNCTIONS.items():
        for statement in statements(resource["Properties"].get("Policies", [])):
            if "ses:SendEmail" in as_list(statement["Action"]):
                assert as_list(statement["Action"]) == ["ses:SendEmail"], logical_id
                subs = [r["Fn::Sub"] for r in statement["Resource"]]
                assert any(":identity/${SenderDomain}" in s for s in subs), logical_id
                assert any(":configuration-set/${EmailConfigurationSet}" in s for s in subs), logical_id
                assert len(subs) == 2, logical_id


def test_ingress_starts_and_resumes_only_its_own_state_machine() -> None:
    policies = FUNCTIONS["IngressFunction"]["Properties"]["Policies"]
    for name, args in policy_templates(policies):
        if name == "StepFunctionsExecutionPolicy":
            assert refs(args) == {STATE_MACHINE_ID}
    for statement in statements(policies):
        if any(a.startswith("states:") for a in as_list(statement["Action"])):
            assert refs(statement["Resource"]) == {STATE_MACHINE_ID}


def test_state_machine_invokes_only_its_own_step_functions() -> None:
    invoked = set()
    for name, args in policy_templates(STATE_MACHINE["Policies"]):
        assert name == "LambdaInvokePolicy", name
        invoked |= refs(args["FunctionName"])
    in_definition = set()
    for value in STATE_MACHINE["DefinitionSubstitutions"].values():
        in_definition |= refs(value)
    # Functions with events of their own (the ingress's routes, the digest's schedule) are not steps.
    step_functions = {f for f, r in FUNCTIONS.items() if not r["Properties"].get("Events")}
    assert invoked == in_definition == step_functions
    for statement in statements(STATE_MACHINE["Policies"]):
        assert not any(a.startswith("lambda:") for a in as_list(statement["Action"])), statement


def test_resume_permission_names_only_the_state_machine() -> None:
    policies = [r for r in RESOURCES.values() if r["Type"] == "AWS::IAM::Policy"]
    assert policies
    for policy in policies:
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            assert as_list(statement["Action"]) == ["states:SendTaskSuccess"]
            assert refs(statement["Resource"]) == {STATE_MACHINE_ID}


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_values_in_the_template() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    for value in [*DEFAULT_SECRETS.values(), *VENDOR_TOKENS.values()]:
        assert value not in text
    for pattern in (
        r"whsec_[A-Za-z0-9+/=]{8,}",
        r"xox[abpr]-",
        r"\bsk_(live|test)_",
        r"\bpk_[0-9a-z_]{6,}",
        "BEGIN .*PRIVATE KEY",
    ):
        assert not re.search(pattern, text), pattern


def test_environment_holds_secret_ids_never_secrets() -> None:
    env_blocks = [TEMPLATE_DATA["Globals"]["Function"]["Environment"]["Variables"]]
    env_blocks += [f["Properties"].get("Environment", {}).get("Variables", {}) for f in FUNCTIONS.values()]
    for variables in env_blocks:
        for name, value in variables.items():
            if re.search(r"SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE", name):
                assert name.endswith("_ID"), f"{name} looks like a secret in the environment"
                assert refs(value) <= {"WebhookSecrets", "VendorSecrets"}, name
                assert refs(value), name


def test_secrets_are_generated_not_written_in_the_template() -> None:
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            assert "SecretString" not in resource["Properties"], logical_id


# -- logs, tracing, alarms -------------------------------------------------------------------


def test_state_machine_logs_errors_without_execution_data_and_traces() -> None:
    logging = STATE_MACHINE["Logging"]
    assert logging["IncludeExecutionData"] is False
    assert logging["Level"] in ("ERROR", "ALL")
    (destination,) = logging["Destinations"]
    (group,) = refs(destination)
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert STATE_MACHINE["Tracing"]["Enabled"] is True


def test_every_log_group_has_a_retention_and_functions_log_to_one() -> None:
    groups = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Logs::LogGroup"}
    assert groups
    for logical_id, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), logical_id
    logging = TEMPLATE_DATA["Globals"]["Function"]["LoggingConfig"]
    assert refs(logging["LogGroup"]) <= set(groups)
    for logical_id, resource in FUNCTIONS.items():
        assert "LogGroup" not in resource["Properties"].get("LoggingConfig", {}), logical_id


def test_api_has_access_logs_without_headers_or_bodies() -> None:
    (api,) = [v for v in RESOURCES.values() if v["Type"] == "AWS::Serverless::HttpApi"]
    settings = api["Properties"]["AccessLogSettings"]
    assert refs(settings["DestinationArn"]) <= {k for k, v in RESOURCES.items() if v["Type"] == "AWS::Logs::LogGroup"}
    fmt = settings["Format"]
    assert "$context.requestId" in fmt and "$context.status" in fmt
    assert "header" not in fmt.lower() and "body" not in fmt.lower()


def test_alarms_cover_failed_executions_ingress_errors_and_step_failures_and_notify_the_topic() -> None:
    alarms = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    metrics = set()
    for props in alarms.values():
        assert refs(props["AlarmActions"]) == {"AlarmTopic"}
        if "MetricName" in props:
            metrics.add((props["Namespace"], props["MetricName"]))
        for metric in props.get("Metrics", []):
            if "MetricStat" in metric:
                stat = metric["MetricStat"]["Metric"]
                metrics.add((stat["Namespace"], stat["MetricName"]))
    assert {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/ApiGateway", "5xx"),
        ("AWS/Lambda", "Errors"),
        ("SaveDesk", "StepFailures"),
    } <= metrics
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"


def test_step_failures_metric_is_the_one_the_step_handlers_emit() -> None:
    runtime = (ROOT / "layers/savedesk/savedesk/runtime.py").read_text(encoding="utf-8")
    assert 'name="StepFailures"' in runtime
    env = TEMPLATE_DATA["Globals"]["Function"]["Environment"]["Variables"]
    alarm = RESOURCES["StepFailuresAlarm"]["Properties"]
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]


def test_every_skipped_checkov_check_has_a_reason() -> None:
    skipped = 0
    for logical_id, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skipped += 1
            assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), logical_id
            assert len(skip.get("comment", "")) > 40, f"{logical_id}: {skip['id']} needs a real reason"
    assert skipped


# -- the workflow's tasks --------------------------------------------------------------------


def tasks(states: dict[str, Any], covered_by_parent: bool = False) -> Iterator[tuple[str, dict[str, Any], bool]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state, covered_by_parent
        elif state["Type"] == "Parallel":
            covers = any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", []))
            for branch in state["Branches"]:
                yield from tasks(branch["States"], covers)
        elif state["Type"] == "Map":
            covers = any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", []))
            yield from tasks((state.get("ItemProcessor") or state["Iterator"])["States"], covers)


ASL_TASKS = list(tasks(ASL["States"]))


def test_the_workflow_has_tasks() -> None:
    assert len(ASL_TASKS) >= len(FUNCTIONS) - 1


@pytest.mark.parametrize(("name", "state", "covered"), ASL_TASKS, ids=[t[0] for t in ASL_TASKS])
def test_each_task_has_a_timeout_retries_and_a_catch(name: str, state: dict[str, Any], covered: bool) -> None:
    assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, f"{name} can hang forever"
    assert state.get("Retry"), f"{name} has no Retry"
    assert state.get("Catch") or covered, f"{name} has no Catch and no enclosing Parallel catches for it"
    for retrier in state["Retry"]:
        assert "States.ALL" not in retrier["ErrorEquals"], f"{name} retries every error, permanent ones too"
