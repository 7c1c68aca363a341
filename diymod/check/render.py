"""The check's output: lines for a person (printed as each step finishes), or one JSON object."""

from __future__ import annotations

import json

from diymod.check.report import CheckOptions, CheckReport, StepResult

NAME_WIDTH = 20


def header_line(options: CheckOptions) -> str:
    mode = "full check" if options.full else "basic check"
    return f"DIY-MOD {mode} of {options.url} as user {options.user_id}"


def step_line(result: StepResult) -> str:
    verdict = "OK  " if result.ok else "FAIL"
    return f"  {verdict}  {result.name:<{NAME_WIDTH}} {result.ms:8.0f} ms  {result.detail}"


def verdict_line(report: CheckReport) -> str:
    failure = report.first_failure
    if failure is not None:
        return f"FAILED at {failure.name}: {failure.detail}"
    if not report.steps:
        return "FAILED: no step ran"
    line = f"PASSED: {len(report.steps)} steps in {report.total_ms:.0f} ms"
    if report.end_to_end_ms is not None:
        line += f"; image end to end {report.end_to_end_ms:.0f} ms (feed sent → result verified)"
    return line


def report_json(report: CheckReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False)
