"""Row 13: schemathesis against the production server's own OpenAPI schema, with a valid token."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ElementTree
from typing import Any

from tests.reliability import harness
from tests.reliability.core import Result, check
from tests.reliability.fixtures import make_tenant

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def junit_counts(path: str) -> tuple[int, int, list[str]]:
    root = ElementTree.parse(path).getroot()
    cases = list(root.iter("testcase"))
    failed = [
        case.get("name", "?") + ": " + (problem.get("message") or problem.text or "")[:300]
        for case in cases
        for problem in [*case.findall("failure"), *case.findall("error")]
    ]
    return len(cases), len(failed), failed


@check("13", "schemathesis on /api/schema/ with a valid token, all operations")
def schemathesis_run(context: Any) -> Result:
    sizes = context.sizes
    server = context.main_server()
    tenant = make_tenant(credits=1_000_000, roles=("owner", "admin", "member", "viewer"))
    report = str(harness.LOG_DIR / "schemathesis.xml")
    command = [
        str(harness.VENV_BIN / "python"),
        "-m",
        "tests.reliability.st_compat",
        "run",
        f"{server.url}/api/schema/?format=json",
        "--base-url",
        server.url,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {tenant.owner_token}",
        "--hypothesis-max-examples",
        str(sizes.schemathesis_examples),
        "--hypothesis-deadline",
        "None",
        "--hypothesis-suppress-health-check",
        "all",
        "--hypothesis-derandomize",
        "--request-timeout",
        "30000",
        "--workers",
        "2",
        "--junit-xml",
        report,
        "--generation-with-security-parameters",
        "false",  # the token is ours; generated Cookie headers only exercise gunicorn's header parser
        "--no-color",
        "--show-trace",
    ]
    completed = subprocess.run(command, cwd=harness.ROOT, capture_output=True, text=True)
    (harness.LOG_DIR / "schemathesis.log").write_text(completed.stdout + completed.stderr)
    operations, failed, messages = junit_counts(report)
    result = Result(
        tried=f"schemathesis: {operations} operations x <= {sizes.schemathesis_examples} examples, "
        "no 5xx + response schema + content type",
        count=operations,
    )
    for message in messages:
        result.fail(message)
    if completed.returncode != 0 and not failed:
        result.fail(f"schemathesis exited {completed.returncode}: {completed.stdout[-500:]}")
    result.expect(operations > 0, "schemathesis ran no operation")
    return result
