#!/usr/bin/env bash
# Builds the web app into web/dist/app (embedded in the houqin binary by
# package web): npm ci from web/package-lock.json when stale, then the
# typed client from api/openapi.json, the type check and Vite's build.
set -euo pipefail
cd "$(dirname "$0")/../web"
. ../scripts/node-env.sh
npm_ci_if_stale
npm run build --silent
