#!/usr/bin/env python3
"""Checks the Gateway's admin API against its own OpenAPI document: the document is a valid
OpenAPI 3.1 document (openapi-spec-validator), and Schemathesis drives every operation of the
live server with generated requests, valid and invalid, checking that no answer is a server
error and that every answer's status, content type and body conform to the document.

Usage: gateway-admin-check.py PORT ADMIN_TOKEN  (a throwaway token of the calling test)
Prints one line per check; exits 1 if any failed.
"""
import json
import subprocess
import sys
import urllib.request

from openapi_spec_validator import validate
from sdkcheck import check, finish

BASE = f"http://127.0.0.1:{sys.argv[1]}"
TOKEN = sys.argv[2]


def document():
    request = urllib.request.Request(f"{BASE}/admin/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        validate(json.load(response))


def schemathesis():
    # Bounded: at most 25 examples an operation and 60 s in all; one worker, seeded, so a
    # failure can be replayed. Every check runs but `unsupported_method` (a 405 for methods the
    # document does not list): Hummingbird's router answers those 404, as for any unknown route.
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{BASE}/admin/openapi.json", "--url", BASE,
         "-H", f"Authorization: Bearer {TOKEN}", "--checks", "all", "--exclude-checks", "unsupported_method", "--max-examples", "25", "--max-time", "60",
         "--workers", "1", "--seed", "1", "--request-timeout", "10", "--warnings", "off"],
        capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        print(run.stdout[-6000:])
        print(run.stderr[-2000:])
        raise AssertionError(f"schemathesis exited {run.returncode}")


check("the document is valid OpenAPI", document)
check("the server conforms to the document (schemathesis)", schemathesis)
finish()
