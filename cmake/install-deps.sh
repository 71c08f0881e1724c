#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building and testing notify needs, from Debian packages. Idempotent:
# packages already present are not fetched again.
set -euo pipefail

packages=(
  cmake g++ make pkg-config git
  libhiredis-dev redis-server        # adapters/redis and its integration tests
  libcurl4-openssl-dev libssl-dev openssl ca-certificates  # adapters/fcm and its test PKI
  libnghttp2-dev                    # adapters/http2: the HTTP/2 client of FCM and APNs
  nghttp2-client                    # h2load: the emulators' ceiling in bench_fcm and bench_apns
  nlohmann-json3-dev doctest-dev libbenchmark-dev
  clang libclang-rt-14-dev          # libFuzzer and the sanitizers' runtime for fuzzing
  prometheus                        # promtool for "ops: promtool check metrics" (with systemd it also enables prometheus.service)
  python3-prometheus-client         # the strict OpenMetrics parser for "ops: OpenMetrics parser"
  python3-aiosmtpd                  # the SMTP server of adapters/email's integration tests
)
# Node.js runs the JSON Schema check (ajv) and, later, the test emulators. Machines
# here may carry NodeSource's nodejs (npm bundled), which Debian's npm conflicts with.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
