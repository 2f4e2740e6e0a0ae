#!/bin/sh
# ClickHouse for keytally's mirror tests and for trying the mirror by hand.
#
#   scripts/clickhouse.sh install                    install Debian's clickhouse-server (18.16) if missing
#   scripts/clickhouse.sh start DIR HTTP_PORT TCP_PORT
#                                                    write a config into DIR and run a server in the foreground
#                                                    on 127.0.0.1:HTTP_PORT (HTTP) and :TCP_PORT (native), data in DIR/data
#                                                    (exec: the caller's child is the server itself, so the caller
#                                                    stops it by its own pid)
#   scripts/clickhouse.sh stop PID                   SIGTERM, then SIGKILL after 10 s
#
# Errors go to stderr with the reason and a non-zero exit: a test that needs
# ClickHouse must fail loudly rather than skip. The package's own
# /etc/clickhouse-server config and /var/lib/clickhouse are never used.
set -eu

die() {
  echo "clickhouse.sh: $*" >&2
  exit 1
}

server_bin() {
  for b in clickhouse-server /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if command -v "$b" >/dev/null 2>&1; then
      command -v "$b"
      return 0
    fi
  done
  return 1
}

install_clickhouse() {
  server_bin >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "clickhouse-server is missing and installing it needs root: run 'apt-get install clickhouse-server' as root"
  command -v apt-get >/dev/null 2>&1 || die "clickhouse-server is missing and apt-get is not available to install it"
  exec 9>/tmp/keytally-clickhouse-install.lock
  flock -w 600 9 || die "timed out waiting for another install of clickhouse-server"
  if server_bin >/dev/null; then
    exec 9>&-
    return 0
  fi
  # As in prometheus.sh: forbid the maintainer scripts to start the packaged service.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  status=0
  {
    # The package list is read first only when the package is unknown (a fresh machine).
    if ! apt-cache show clickhouse-server >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get update -q; fi &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold clickhouse-server clickhouse-client
  } >&2 || status=$?
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || die "apt-get install clickhouse-server failed (exit $status)"
  server_bin >/dev/null || die "the clickhouse-server package installed, but clickhouse-server is not on PATH"
  exec 9>&-
}

start_clickhouse() {
  dir=$1 http=$2 tcp=$3
  [ -d "$dir" ] || die "no such directory: $dir"
  case "$http" in '' | *[!0-9]*) die "bad HTTP port: $http" ;; esac
  case "$tcp" in '' | *[!0-9]*) die "bad TCP port: $tcp" ;; esac
  bin=$(server_bin) || die "clickhouse-server is not installed: run scripts/clickhouse.sh install"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/error.log</errorlog>
    <size>10M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <max_concurrent_queries>32</max_concurrent_queries>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
</yandex>
EOF
  cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
  exec "$bin" --config-file="$dir/config.xml"
}

stop_clickhouse() {
  pid=$1
  case "$pid" in '' | *[!0-9]*) die "bad pid: $pid" ;; esac
  kill -TERM "$pid" 2>/dev/null || return 0
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -ge 100 ] && { kill -KILL "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
}

cmd=${1:-}
case "$cmd" in
  install) install_clickhouse ;;
  start)
    [ $# -eq 4 ] || die "usage: $0 start DIR HTTP_PORT TCP_PORT"
    install_clickhouse
    start_clickhouse "$2" "$3" "$4"
    ;;
  stop)
    [ $# -eq 2 ] || die "usage: $0 stop PID"
    stop_clickhouse "$2"
    ;;
  *) die "usage: $0 install | start DIR HTTP_PORT TCP_PORT | stop PID" ;;
esac
