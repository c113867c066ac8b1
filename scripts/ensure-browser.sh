#!/usr/bin/env bash
# Installs what the browser tests need, from Debian packages, when missing:
# Chromium (driven by playwright-core, web/e2e) and CJK fonts, so that
# Chinese renders in the screenshots.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
	echo "ensure-browser: installing ${need[*]} (Debian packages)" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
