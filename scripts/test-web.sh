#!/usr/bin/env bash
# The web app's unit and component tests (Vitest, jsdom), from
# web/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../web"
. ../scripts/node-env.sh
npm_ci_if_stale
exec npx --no-install vitest run
