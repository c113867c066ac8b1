#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a throwaway PostgreSQL server: installs PostgreSQL from
# Debian's packages if it is missing, creates a cluster in a temporary
# directory, starts it on 127.0.0.1 on a free port (as the postgres user when
# run as root: initdb refuses root), exports its DSN as HOUQIN_TEST_POSTGRES
# and HOUQIN_REQUIRE_POSTGRES=1 (so tests fail rather than skip without it),
# runs CMD, and stops and removes the cluster however CMD ends.
set -euo pipefail

log() { echo "with-postgres: $*" >&2; }

pg_bindir() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bindir)" ] || [ ! -x "$(pg_bindir)/initdb" ]; then
	log "PostgreSQL not found; installing it from Debian packages"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	# We start our own cluster; don't let the package create and start one.
	$SUDO mkdir -p /etc/postgresql-common
	[ -e /etc/postgresql-common/createcluster.conf ] ||
		echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
BIN="$(pg_bindir)"
[ -x "$BIN/initdb" ] || { log "no initdb under $BIN after install"; exit 1; }

DIR="$(mktemp -d /tmp/houqin-pg.XXXXXX)"
AS=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$DIR"
	AS=(runuser -u postgres --)
fi

stop() {
	"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap stop EXIT

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 ||
	{ cat "$DIR/initdb.log" >&2; exit 1; }

free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

started=""
for _ in 1 2 3 4 5; do
	PORT="$(free_port)"
	if "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300 -c shared_buffers=128MB" \
		start >/dev/null; then
		started=1
		break
	fi
done
[ -n "$started" ] || { log "could not start PostgreSQL"; cat "$DIR/server.log" >&2; exit 1; }

export HOUQIN_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
export HOUQIN_REQUIRE_POSTGRES=1
log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data in $DIR)"
set +e
"$@"
status=$?
set -e
exit $status
