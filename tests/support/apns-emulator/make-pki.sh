#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Generates throw-away test keys into DIR (never commit them): the FCM emulator's test CA
# and server certificate (ca.pem, server.pem/.key: ../fcm-emulator/make-pki.sh), plus
#   apns.p8 / apns.pub   an APNs signing key pair (PKCS#8 EC P-256, as Apple issues .p8 files)
# Usage: make-pki.sh DIR
set -euo pipefail
dir=${1:?usage: make-pki.sh DIR}
"$(dirname "$0")/../fcm-emulator/make-pki.sh" "$dir"
cd "$dir"
umask 077
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out apns.p8 2>/dev/null
openssl pkey -in apns.p8 -pubout -out apns.pub
