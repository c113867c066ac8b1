#!/usr/bin/env bash
# Lints api/openapi.json with Redocly's CLI (tools/redocly.yaml and its
# ignore file), installed from tools/package-lock.json when missing or
# stale. Needs Node.js ≥ 20.19 with npm (installed from Debian packages if
# absent); exits non-zero on any problem.
set -euo pipefail
cd "$(dirname "$0")/../tools"
if ! command -v npm >/dev/null; then
	echo "lint-openapi: installing Node.js and npm (Debian packages)" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# npm ci when node_modules is absent or older than the lock file.
if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
# No telemetry and no update check: the machine may be offline.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec npx --no-install redocly lint --config redocly.yaml --format=stylish ../api/openapi.json
