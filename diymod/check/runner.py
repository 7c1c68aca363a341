"""Runs the steps in order, timing each, stopping at the first failure; cleanup always runs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from diymod.check.basic_steps import BASIC_STEPS
from diymod.check.client import CheckClient, StepFailed
from diymod.check.context import CheckContext, Step
from diymod.check.image_steps import FULL_STEPS, filter_delete_step
from diymod.check.report import CheckOptions, CheckReport, StepResult

logger = logging.getLogger(__name__)

StepListener = Callable[[StepResult], None]


def step_guard_seconds(options: CheckOptions) -> float:
    """A last bound on any one step, above the step's own timeouts (which say more)."""
    return options.image_timeout + 3 * options.step_timeout


async def step_record(
    report: CheckReport, name: str, step: Step, context: CheckContext, on_step: StepListener
) -> bool:
    started = time.perf_counter()
    guard = step_guard_seconds(context.options)
    try:
        detail, ok = await asyncio.wait_for(step(context), guard), True
    except StepFailed as failure:
        detail, ok = failure.message, False
    except TimeoutError:
        detail, ok = f"the step did not finish within {guard:g} s", False
    except Exception as error:  # a surprise is a failed step with its cause, not a traceback
        logger.debug("diymod_check: step %s raised", name, exc_info=True)
        detail, ok = f"unexpected {error.__class__.__name__}: {error}", False
    result = StepResult(name=name, ok=ok, ms=(time.perf_counter() - started) * 1000, detail=detail)
    report.steps.append(result)
    on_step(result)
    return ok


def check_client_make(options: CheckOptions) -> CheckClient:
    return CheckClient(
        base_url=options.url,
        user_id=options.user_id,
        token=options.token,
        timeout=options.step_timeout,
    )


async def check_run_async(
    options: CheckOptions,
    *,
    on_step: StepListener = lambda result: None,
    client: CheckClient | None = None,
) -> CheckReport:
    """The check; `client` (tests) defaults to one speaking to `options.url` over the network."""
    report = CheckReport(url=options.url, user_id=options.user_id, full=options.full)
    started = time.perf_counter()
    client = client or check_client_make(options)
    context = CheckContext(options=options, client=client)
    plan = BASIC_STEPS + (FULL_STEPS if options.full else [])
    try:
        for name, step in plan:
            if not await step_record(report, name, step, context, on_step):
                break
    finally:
        # The temporary filter goes even when a step failed (or the run was interrupted).
        if context.filter_id is not None:
            await step_record(report, "filter_delete", filter_delete_step, context, on_step)
        await client.close()
        context.exits.close()
    report.total_ms = (time.perf_counter() - started) * 1000
    report.end_to_end_ms = context.end_to_end_ms
    return report


def check_run(
    options: CheckOptions, *, on_step: StepListener = lambda result: None
) -> CheckReport:
    """Run the check against `options.url`; `on_step` sees each step as it finishes."""
    return asyncio.run(check_run_async(options, on_step=on_step))
