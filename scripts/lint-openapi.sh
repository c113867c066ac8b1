#!/usr/bin/env bash
# Lints api/openapi.json with Redocly's CLI (tools/redocly.yaml and its
# ignore file), installed from tools/package-lock.json when missing or
# stale. Exits non-zero on any problem.
set -euo pipefail
cd "$(dirname "$0")/../tools"
. ../scripts/node-env.sh
npm_ci_if_stale
# No telemetry and no update check: the machine may be offline.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec npx --no-install redocly lint --config redocly.yaml --format=stylish ../api/openapi.json
