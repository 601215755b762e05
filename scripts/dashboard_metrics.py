#!/usr/bin/env python3
"""Prints, one per line, every metric name used in the queries of a Grafana dashboard (argv[1])."""
import json, re, sys
KEYWORDS = {"sum","min","max","avg","count","stddev","stdvar","topk","bottomk","quantile","count_values","group",
            "by","without","on","ignoring","group_left","group_right","bool","and","or","unless","offset",
            "rate","irate","increase","delta","idelta","deriv","histogram_quantile","abs","clamp_min","clamp_max",
            "vector","scalar","time","inf","nan"}
def walk(ps):
    for p in ps:
        yield p
        yield from walk(p.get("panels", []))
names = set()
for p in walk(json.load(open(sys.argv[1])).get("panels", [])):
    for t in p.get("targets", []):
        e = t.get("expr", "")
        e = re.sub(r'"(?:\\.|[^"\\])*"', '""', e)              # string literals
        e = re.sub(r"\{[^}]*\}", "", e)                          # label matchers
        e = re.sub(r"\[[^\]]*\]", "", e)                          # range selectors
        e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
        for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
            tok = m.group(0)
            rest = e[m.end():].lstrip()
            if rest.startswith("("): continue                     # function or aggregation
            if tok.lower() in KEYWORDS: continue
            names.add(tok)
print("\n".join(sorted(names)))
