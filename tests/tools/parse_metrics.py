"""Reads Prometheus text exposition on stdin with Prometheus's own client parser and prints
every sample as JSON: [{"name", "labels", "value", "family", "type"}, ...]. A page the parser
refuses exits 1 with its reason."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
out = []
try:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.append({"name": s.name, "labels": s.labels, "value": s.value,
                        "family": family.name, "type": family.type})
except Exception as e:  # the parser's own error, said plainly
    print(f"the exposition does not parse: {e}", file=sys.stderr)
    sys.exit(1)
json.dump(out, sys.stdout)
