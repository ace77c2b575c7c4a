#!/usr/bin/env python3
"""Fails when a public enum with cases has no documented decision.

Adding a case to a public enum breaks every exhaustive `switch` in users' code (no library
evolution on Linux). Each public enum must either be a caseless namespace or say in its doc
comment that it is "Frozen" and why; values expected to grow are structs of named constants
(like RouterError.Code) instead.
"""
import pathlib, re, sys

failures = []
for path in sorted(pathlib.Path("Sources").rglob("*.swift")):
    lines = path.read_text().split("\n")
    for number, line in enumerate(lines):
        match = re.match(r"\s*public enum (\w+)", line)
        if not match:
            continue
        # The enum's body: up to the closing brace at the same indentation.
        indent = re.match(r"\s*", line).group(0)
        body = []
        for following in lines[number + 1:]:
            if following == indent + "}":
                break
            body.append(following)
        if not any(re.match(r"\s*case \w", l) for l in body):
            continue  # a namespace
        doc = []
        for previous in reversed(lines[:number]):
            if not previous.strip().startswith("///"):
                break
            doc.append(previous)
        if not any("Frozen" in l for l in doc):
            failures.append(f"{path}:{number + 1}: public enum {match.group(1)} has cases but no 'Frozen' decision in its doc comment")

for failure in failures:
    print(failure)
if failures:
    sys.exit(1)
print("public enums: every one is a namespace or documents its frozen decision")
