"""What every step shares: replay of a finished step, effects recorded once, the case saved safely.

A step is a function `run(ctx) -> StepOutcome`. The runner:
- returns the recorded output when the step finished before (a redrive, a re-run, a Lambda retry),
  unless the input asks to force it (`{"rerun": ["StepName"], "force": true}`);
- gives the step `ctx.once(key, action)` for each external effect, so the effect's id
  (SES message id, Slack ts, ClickUp task id, ...) is recorded and never produced twice;
- records the step's result and an event in the case's log.

Keys are business keys (case id + step), never execution ids, because ops may start a new execution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from savedesk.errors import PermanentError, SaveDeskError
from savedesk.models import Case
from savedesk.store import CaseStore

T = TypeVar("T")

# An effect whose intent was recorded but whose result was not (the Lambda died mid-send) is
# retried this many times in all; after that a person must check, since the vendor offers no key.
MAX_UNCONFIRMED_ATTEMPTS = 2


@dataclass
class StepOutcome:
    summary: str  # one line for people: the case timeline, the ops CLI
    details: dict[str, Any] = field(default_factory=dict)  # kept on the step record
    output: dict[str, Any] | None = None  # what the workflow receives (small; ids, not documents)
    complete: bool = True  # False: the step is waiting for something and will run again


class Deps(Protocol):
    """The ports a step may use; wiring.Deps builds the real ones, tests pass fakes."""

    settings: Any


@dataclass
class StepContext:
    step: str
    case: Case
    store: CaseStore
    deps: Any
    event: dict[str, Any]
    effects: dict[str, Any]
    force: bool = False

    def once(self, key: str, action: Callable[[], T]) -> T:
        """Run `action` (one external effect) unless its result is already recorded for this step."""
        recorded = self.effects.get(key)
        if recorded is not None and recorded.get("done") and not self.force:
            return recorded["value"]
        attempts = 0 if (recorded is None or self.force) else int(recorded.get("attempts", 0))
        if attempts >= MAX_UNCONFIRMED_ATTEMPTS:
            raise PermanentError(
                f"{key}: {attempts} earlier attempts were cut off before their result was recorded; "
                "check whether it happened, then re-run this step with force"
            )
        # The intent goes down before the call: a send with no idempotency key can then repeat at most once.
        self.effects[key] = {"done": False, "attempts": attempts + 1}
        self.store.record_effect(self.case.case_id, self.step, self.effects)
        try:
            value = action()
        except Exception:
            # The call came back with an error, so this attempt was not cut off and does not count toward
            # MAX_UNCONFIRMED_ATTEMPTS; otherwise two 5xx in a row would stop a step the workflow's Retry would save.
            self.effects[key] = {"done": False, "attempts": attempts}
            self.store.record_effect(self.case.case_id, self.step, self.effects)
            raise
        self.effects[key] = {"done": True, "value": value}
        self.store.record_effect(self.case.case_id, self.step, self.effects)
        return value

    def update_case(self, change: Callable[[Case], Case]) -> Case:
        """Apply `change` to the latest case and save it (optimistic lock; see CaseStore.update_case)."""
        self.case = self.store.update_case(self.case.case_id, change)
        return self.case

    def log(self, kind: str, detail: dict[str, Any]) -> None:
        self.store.append_event(self.case.case_id, kind, {"step": self.step, **detail})


def run_step(
    step: str, event: dict[str, Any], store: CaseStore, deps: Any, action: Callable[[StepContext], StepOutcome]
) -> dict[str, Any]:
    case_id = event.get("case_id")
    if not isinstance(case_id, str) or not case_id:
        raise PermanentError(f"[{step}] the input has no case_id")
    force = bool(event.get("force")) and step in (event.get("rerun") or [])
    prior = store.get_step(case_id, step)
    if prior and prior["status"] == "COMPLETED" and not force:
        return _workflow_output(step, prior["result"], replayed=True)

    case = store.get_case(case_id)
    if case is None:
        raise PermanentError(f"[{step}] no case {case_id}")
    state = store.start_step(case_id, step)
    ctx = StepContext(step=step, case=case, store=store, deps=deps, event=event, effects=state["effects"], force=force)
    try:
        outcome = action(ctx)
    except SaveDeskError as exc:
        # The step's name in the message tells ops (and NotifyOpsOfFailure) where it broke.
        exc.args = (f"[{step}] {exc}",)
        store.append_event(case_id, "step_failed", {"step": step, "error": type(exc).__name__, "message": str(exc)})
        raise
    result = {"summary": outcome.summary, "details": outcome.details, "output": outcome.output}
    if outcome.complete:
        store.complete_step(case_id, step, result)
        store.append_event(case_id, "step_completed", {"step": step, "summary": outcome.summary, "forced": force})
    else:
        store.append_event(case_id, "step_waiting", {"step": step, "summary": outcome.summary})
    return _workflow_output(step, result, replayed=False)


def _workflow_output(step: str, result: dict[str, Any], *, replayed: bool) -> dict[str, Any]:
    output = dict(result.get("output") or {})
    output.setdefault("step", step)
    output.setdefault("summary", result.get("summary", ""))
    output["replayed"] = replayed
    return output
