"""Reads schemathesis' NDJSON event report and prints, for scripts/fuzz:

  - each distinct failure once (operation, check, status): how many cases hit it and
    up to three examples (different messages), each with a request that reproduces it
    as curl ($AUTH stands for the Authorization the run sent);
  - with --statuses, the statuses each operation answered (to see how deep the run got);
  - last, the one-line summary `fuzz: N passed, M failed` (operations without a failure,
    distinct failures and errors).

Exit status: 1 when any failure was recorded, 0 otherwise.

  python summary.py REPORT.ndjson BASE_URL [--statuses]
"""

import base64
import collections
import json
import re
import shlex
import sys


def is_interpreter_bug(event):
    """CPython releases before the fix of its issue 106905 (November 2023; Debian 12 has
    3.11.2) now and then raise this SystemError while building an AST, here inside
    schemathesis' case generation, on a thread: an error of the interpreter, not a
    finding about the server, and it comes and goes with the workers' timing."""
    error = (event.get("NonFatalError") or {}).get("value") or {}
    return error.get("type") == "SystemError" and "AST constructor recursion depth mismatch" in (
        error.get("message") or ""
    )


def body_text(response):
    content = response.get("content") or {}
    if "$base64" in content:
        raw = base64.b64decode(content["$base64"])
    else:
        raw = (content.get("string") or "").encode()
    return raw.decode("utf-8", "replace")


def gist(text):
    """The body with the parts that vary from case to case blanked out: what the
    parameter, value or symbol was, so that one root cause is listed once."""
    try:
        message = json.loads(text).get("message") or json.loads(text).get("error_description")
    except (ValueError, AttributeError):
        message = None
    text = message or text
    text = re.sub(r"`[^`]*`", "`…`", text)
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f-]{27}\b", "<uuid>", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return text[:160]


def curl(request, base, body):
    parts = ["curl", "-sS", "-X", request["method"]]
    for name, values in (request.get("headers") or {}).items():
        if name.lower() in ("user-agent", "x-schemathesis-testcaseid", "accept", "accept-encoding",
                            "connection", "content-length"):
            continue
        for value in values:
            if name.lower() == "authorization" and value == "[Filtered]":
                value = "$AUTH"
            parts += ["-H", f"{name}: {value}"]
    if body is not None:
        parts += ["--data-binary", body]
    parts.append(request["uri"])
    return " ".join(shlex.quote(p) if "$AUTH" not in p else '"' + p + '"' for p in parts)


def request_body(request):
    body = request.get("body")
    if not body:
        return None
    if "$base64" in body:
        return base64.b64decode(body["$base64"]).decode("utf-8", "replace")
    return body.get("string")


def operation_of(label, cases, case_id):
    """The case's method and path: the scenario's label, except in stateful tests."""
    value = (cases.get(case_id) or {}).get("value") or {}
    if label.startswith("Stateful") and value.get("method"):
        return f"{value['method'].upper()} {value['path']}"
    return label


def main():
    path, base = sys.argv[1], sys.argv[2]
    show_statuses = "--statuses" in sys.argv[3:]
    failures = collections.OrderedDict()
    statuses = collections.defaultdict(collections.Counter)
    operations = set()
    errors = []
    interpreter_bugs = []
    with open(path) as events:
        for line in events:
            event = json.loads(line)
            if is_interpreter_bug(event):
                interpreter_bugs.append(event)
            elif "NonFatalError" in event or "FatalError" in event:
                errors.append(json.dumps(event)[:600])
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            label = finished["recorder"]["label"]
            operations.add(label)
            cases = finished["recorder"].get("cases") or {}
            interactions = finished["recorder"].get("interactions") or {}
            for case_id, interaction in interactions.items():
                response = interaction.get("response")
                if response:
                    statuses[operation_of(label, cases, case_id)][response["status_code"]] += 1
            for case_id, checks in (finished["recorder"].get("checks") or {}).items():
                for check in checks:
                    if check["status"] != "failure":
                        continue
                    interaction = interactions.get(case_id) or {}
                    response = interaction.get("response") or {}
                    request = interaction.get("request") or {}
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    text = body_text(response) if response else ""
                    operation = operation_of(label, cases, case_id)
                    key = (operation, check["name"], response.get("status_code"), failure.get("title", ""))
                    entry = failures.setdefault(key, {"count": 0, "examples": collections.OrderedDict()})
                    entry["count"] += 1
                    summary = gist(text) + " | " + gist(failure.get("message", ""))
                    if summary not in entry["examples"] and len(entry["examples"]) < 3:
                        entry["examples"][summary] = {
                            "message": failure.get("message", ""),
                            "body": text[:400],
                            "curl": curl(request, base, request_body(request)) if request else "",
                        }

    for (operation, check, status, title), entry in failures.items():
        print(f"FAIL {operation}: {check} ({title}), HTTP {status}, {entry['count']} case(s)")
        for example in entry["examples"].values():
            for line in example["message"].splitlines()[:6]:
                print(f"    {line[:300]}")
            print(f"    response: {example['body']}")
            print(f"    {example['curl'][:1500]}")
    # Once in a run is the interpreter's race; more often, something else is wrong.
    if len(interpreter_bugs) > 1:
        errors += [json.dumps(bug)[:600] for bug in interpreter_bugs]
        interpreter_bugs = []
    for error in errors:
        print(f"ERROR {error}")
    incomplete = {bug["NonFatalError"].get("label") for bug in interpreter_bugs}
    for bug in interpreter_bugs:
        print(
            "WARN Python itself failed while schemathesis made cases for "
            f"{bug['NonFatalError'].get('label')}, whose remaining cases did not run "
            f"(not a check of the server): {json.dumps(bug)[:600]}"
        )
    if show_statuses:
        for label in sorted(statuses):
            seen = ", ".join(f"{code}×{n}" for code, n in sorted(statuses[label].items()))
            print(f"  {label}: {seen}")
    failed_operations = {key[0] for key in failures}
    operations = {label for label in operations if label != "Stateful tests"} | set(statuses)
    passed = operations - failed_operations - incomplete
    print(
        f"fuzz: {len(passed)} passed, {len(failures) + len(errors)} failed"
        + (f", {len(incomplete)} incomplete" if incomplete else "")
    )
    return 1 if failures or errors else 0


if __name__ == "__main__":
    sys.exit(main())
