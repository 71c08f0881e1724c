#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: openmetrics_check.sh SAMPLE_PROGRAM
# Parses the program's OpenMetrics text (`SAMPLE_PROGRAM --openmetrics`) with the strict
# OpenMetrics parser of the Prometheus Python client (Debian's python3-prometheus-client:
# exemplars, `# EOF`, canonical `le` values, counter families without `_total`). Exits
# 77 (ctest: SKIPPED) with a message when that module is not installed.
set -eu
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if ! "$python" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
  echo "SKIPPED: python3-prometheus-client not found (cmake/install-deps.sh installs it)" >&2
  exit 77
fi
"$1" --openmetrics | "$python" -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = sys.stdin.read()
families = list(text_string_to_metric_families(text))
exemplars = sum(1 for f in families for s in f.samples if s.exemplar)
print(f"openmetrics: {len(families)} families, {sum(len(f.samples) for f in families)} samples, {exemplars} exemplars: ok")
if exemplars == 0:
    sys.exit("no exemplar in the sample scrape")
'
