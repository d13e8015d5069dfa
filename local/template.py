"""Reads template.yaml, the one description of SaveDesk's resources, for the local stack.

CloudFormation's short-form tags (!Ref, !GetAtt, !Sub) become their long forms, and
`resolve` turns them into local values (names, ARNs, parameter defaults).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name: str):  # noqa: ANN202 - yaml constructor signature
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _short, _long in {
    "!Ref": "Ref",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
}.items():
    _CfnLoader.add_constructor(_short, _tag(_long))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass with CFN tags only


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    module: str
    attribute: str
    environment: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"savedesk-{self.logical_id}"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # logical id


class LocalTemplate:
    """template.yaml seen from the local stack: resources, local names, resolved values."""

    def __init__(self, parameter_overrides: Mapping[str, str] | None = None, path: Path = TEMPLATE) -> None:
        self.raw = load_template(path)
        self.resources: dict[str, Any] = self.raw["Resources"]
        self.parameters: dict[str, str] = {
            name: str(spec.get("Default", "")) for name, spec in self.raw.get("Parameters", {}).items()
        }
        self.parameters.update(parameter_overrides or {})
        self.physical: dict[str, str] = {}
        for logical_id, resource in self.resources.items():
            kind = resource["Type"]
            if kind == "AWS::DynamoDB::Table":
                self.physical[logical_id] = f"savedesk-{logical_id}"
            elif kind == "AWS::Serverless::StateMachine":
                self.physical[logical_id] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:savedesk-{logical_id}"
            elif kind == "AWS::Serverless::Function":
                self.physical[logical_id] = f"savedesk-{logical_id}"
            elif kind == "AWS::SecretsManager::Secret":
                self.physical[logical_id] = f"savedesk/{logical_id}"
            elif kind == "AWS::SES::ConfigurationSet":
                self.physical[logical_id] = self.resolve(resource["Properties"]["Name"])
            else:
                self.physical[logical_id] = f"savedesk-{logical_id}"

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                return self._get_att(arg[0], arg[1])
            if key == "Fn::Sub":
                return self._sub(arg)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _ref(self, name: str) -> str:
        if name == "AWS::Region":
            return REGION
        if name == "AWS::AccountId":
            return ACCOUNT
        if name == "AWS::Partition":
            return "aws"
        if name in self.parameters:
            return self.parameters[name]
        return self.physical[name]

    def _get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::Serverless::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.physical[logical_id]}"
        if kind == "AWS::Serverless::StateMachine" and attribute == "Name":
            return self.physical[logical_id].rsplit(":", 1)[-1]
        return self.physical[logical_id]

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(self.resolve(extra[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # -- views ------------------------------------------------------------------------------

    def of_type(self, kind: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def environment(self) -> dict[str, str]:
        """Globals' environment plus every function's own variables, resolved.

        In-process handlers share one process, so the variables are one set; a variable a
        function sets differently from another would be a clash, and is refused here.
        """
        env = {k: str(self.resolve(v)) for k, v in self.raw["Globals"]["Function"]["Environment"]["Variables"].items()}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            own = resource["Properties"].get("Environment", {}).get("Variables", {})
            for key, value in own.items():
                resolved = str(self.resolve(value))
                if key in env and env[key] != resolved:
                    raise ValueError(f"{logical_id} sets {key} differently from another function")
                env[key] = resolved
        return env

    def functions(self) -> dict[str, Function]:
        found = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            module, attribute = props["Handler"].rsplit(".", 1)
            found[logical_id] = Function(
                logical_id=logical_id,
                code_dir=ROOT / props["CodeUri"],
                module=module,
                attribute=attribute,
                environment=props.get("Environment", {}).get("Variables", {}),
            )
        return found

    def routes(self) -> list[Route]:
        found = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == "HttpApi":
                    props = event["Properties"]
                    found.append(Route(props["Method"].upper(), props["Path"], logical_id))
        return found

    def state_machine(self) -> tuple[str, str, str]:
        """(logical id, local ARN, definition with its substitutions applied)."""
        ((logical_id, resource),) = self.of_type("AWS::Serverless::StateMachine").items()
        props = resource["Properties"]
        definition = (ROOT / props["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(self.resolve(value)))
        return logical_id, self.physical[logical_id], definition
