# Sourced by the scripts that need Node.js and npm: installs them from
# Debian packages when missing, and keeps npm quiet and offline-safe.
if ! command -v npm >/dev/null; then
	echo "installing Node.js and npm (Debian packages)" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# npm_ci_if_stale runs npm ci in the current directory when node_modules is
# absent or older than the lock file.
npm_ci_if_stale() {
	if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		npm ci --loglevel=error
	fi
}
