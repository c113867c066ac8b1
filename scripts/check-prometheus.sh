#!/usr/bin/env bash
# check-prometheus.sh: checks the alert rules in deploy/prometheus with
# promtool — `promtool check rules` on every rule file and `promtool test
# rules` on every *.test.yml — installing Debian's prometheus package
# (which ships promtool) if promtool is missing, as with-postgres.sh does
# for PostgreSQL. `make test` runs it.
set -euo pipefail

log() { echo "check-prometheus: $*" >&2; }

if ! command -v promtool >/dev/null; then
	log "promtool not found; installing Debian's prometheus package"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# The package's service is not started in containers without systemd;
	# only promtool is used here.
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
command -v promtool >/dev/null || { log "no promtool after install"; exit 1; }

cd "$(dirname "$0")/../deploy/prometheus"
rules=()
for f in *.yml; do
	case "$f" in *.test.yml) ;; *) rules+=("$f") ;; esac
done
promtool check rules "${rules[@]}"
for t in *.test.yml; do
	promtool test rules "$t"
done
