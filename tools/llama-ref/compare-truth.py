#!/usr/bin/env python3
"""Compares two llama-truth.json files record by record (every field of every file at both n_ctx).

    tools/llama-ref/compare-truth.py EXPECTED.json GOT.json

Prints each difference and a count; exits 1 when any. Used to check that the pipeline of this folder
remakes tests/fixtures/llama-archs/llama-truth.json from the upstream sizes."""
import json
import sys

want, got = (json.load(open(p)) for p in sys.argv[1:3])
diffs = 0
files = 0
for k in ("n_ctx_512", "n_ctx_4096"):
    for f in sorted(set(want[k]) | set(got[k])):
        files += 1
        a, b = want[k].get(f), got[k].get(f)
        if a is None or b is None:
            print(f"{k} {f}: only in {'got' if a is None else 'expected'}")
            diffs += 1
            continue
        for field in sorted(set(a) | set(b)):
            if a.get(field) != b.get(field):
                diffs += 1
                print(f"{k} {f} {field}:\n  expected {a.get(field)}\n  got      {b.get(field)}")
print(f"{files} records compared, {diffs} differences")
sys.exit(1 if diffs else 0)
