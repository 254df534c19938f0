#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine that has only Go:
# redis-server and the PostgreSQL 15 server binaries. The tests start their
# own servers on free loopback ports; nothing here starts a service.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)

pg_ok=false
if [ -n "${RAGQ_PG_BINDIR:-}" ] && [ -x "${RAGQ_PG_BINDIR}/initdb" ]; then pg_ok=true; fi
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_ok=true; fi
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_ok=true; done
$pg_ok || need+=(postgresql-15)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi

echo "test-deps: installing ${need[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
		echo "test-deps: need root (or sudo) to install: ${need[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
	# Debian releases other than bookworm name the server package without a version.
	fallback=("${need[@]/postgresql-15/postgresql}")
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${fallback[@]}" >/dev/null
fi
# The Debian package starts services we do not use; the tests run their own.
if command -v service >/dev/null 2>&1; then
	"${sudo_cmd[@]}" service redis-server stop >/dev/null 2>&1 || true
	"${sudo_cmd[@]}" service postgresql stop >/dev/null 2>&1 || true
fi
