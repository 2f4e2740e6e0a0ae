#!/bin/sh
# PostgreSQL 15 for keytally's tests and for trying the PostgreSQL store by hand.
#
#   scripts/postgres.sh install          install Debian's postgresql-15 and postgresql-15-hll if missing
#   scripts/postgres.sh start DIR PORT   initdb a cluster in DIR (owned by the `postgres` user when run as root),
#                                        start it on 127.0.0.1:PORT (socket in DIR), wait until it accepts
#                                        connections; prints the URL (superuser `postgres`, trust auth, loopback only)
#   scripts/postgres.sh stop DIR         fast shutdown of the cluster in DIR (DIR is left for the caller to remove)
#
# Errors go to stderr with the reason and a non-zero exit: a test that needs
# PostgreSQL must fail loudly rather than skip.
set -eu

PGBIN=/usr/lib/postgresql/15/bin

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

have_postgres() {
  [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] && [ -f /usr/share/postgresql/15/extension/hll.control ]
}

install_postgres() {
  have_postgres && return 0
  [ "$(id -u)" = 0 ] || die "PostgreSQL 15 (or its hll extension) is missing and installing it needs root: run 'apt-get install postgresql-15 postgresql-15-hll' as root"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL 15 is missing and apt-get is not available to install it"
  # Several test runs may ask at once; apt's own lock would make all but one fail.
  exec 9>/tmp/keytally-postgres-install.lock
  flock -w 600 9 || die "timed out waiting for another install of PostgreSQL"
  if have_postgres; then
    exec 9>&-
    return 0
  fi
  # The packages' maintainer scripts would create and start a system cluster; a policy-rc.d that
  # answers 101 forbids starting it (ours run in temporary directories). Only ours is removed again.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  status=0
  install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql-15 postgresql-15-hll
  }
  # apt-get update only when a package is not found (the lists may be missing on a fresh machine).
  { install || { DEBIAN_FRONTEND=noninteractive apt-get update -q && install; }; } >&2 || status=$?
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || die "apt-get install postgresql-15 postgresql-15-hll failed (exit $status)"
  have_postgres || die "the packages installed, but $PGBIN/initdb or the hll extension is missing"
  exec 9>&-
}

# Runs a PostgreSQL binary as the cluster's owner: `postgres` when we are root (PostgreSQL refuses to run as root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  dir=$1 port=$2
  [ -d "$dir" ] || die "no such directory: $dir"
  case "$port" in '' | *[!0-9]*) die "bad port: $port" ;; esac
  have_postgres || die "PostgreSQL 15 is not installed: run scripts/postgres.sh install"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$dir/initdb.log")"
  # Loopback only; the socket lives in DIR. fsync off: a test cluster lives for one run, and the
  # shared machine's disk is slow (a clean stop, as in the restart test, still writes everything).
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" start >&2 ||
    die "the cluster did not start on port $port: $(tail -5 "$dir/server.log" 2>/dev/null)"
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop_postgres() {
  dir=$1
  [ -d "$dir/data" ] || die "no cluster in $dir"
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || die "the cluster in $dir did not stop"
}

cmd=${1:-}
case "$cmd" in
  install) install_postgres ;;
  start)
    [ $# -eq 3 ] || die "usage: $0 start DIR PORT"
    install_postgres
    start_postgres "$2" "$3"
    ;;
  stop)
    [ $# -eq 2 ] || die "usage: $0 stop DIR"
    stop_postgres "$2"
    ;;
  *) die "usage: $0 install | start DIR PORT | stop DIR" ;;
esac
