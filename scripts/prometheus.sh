#!/bin/sh
# Prometheus for keytally's tests and for trying /metrics by hand.
#
#   scripts/prometheus.sh install                 install Debian's `prometheus` package (promtool + server) if missing
#   scripts/prometheus.sh start DIR PORT TARGET   write DIR/prometheus.yml scraping TARGET (host:port) every 1s
#                                                 and run Prometheus in the foreground on 127.0.0.1:PORT,
#                                                 with its TSDB in DIR/data (exec: the caller's child is Prometheus itself,
#                                                 so the caller stops it by its own pid)
#
# Errors go to stderr with the reason and a non-zero exit: a test that needs
# Prometheus must fail loudly rather than skip.
set -eu

die() {
  echo "prometheus.sh: $*" >&2
  exit 1
}

have_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
}

install_prometheus() {
  have_prometheus && return 0
  [ "$(id -u)" = 0 ] || die "prometheus/promtool are missing and installing them needs root: run 'apt-get install prometheus' as root"
  command -v apt-get >/dev/null 2>&1 || die "prometheus/promtool are missing and apt-get is not available to install them"
  # Several test files may ask at once; apt's own lock would make all but one fail.
  exec 9>/tmp/keytally-prometheus-install.lock
  flock -w 600 9 || die "timed out waiting for another install of prometheus"
  if have_prometheus; then
    exec 9>&-
    return 0
  fi
  # The package's maintainer scripts start the service through invoke-rc.d; a
  # policy-rc.d that answers 101 forbids that, so the install leaves nothing
  # running (there is no systemd here to manage it anyway). Only ours is removed again.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  status=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold prometheus
  } >&2 || status=$?
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || die "apt-get install prometheus failed (exit $status)"
  have_prometheus || die "the prometheus package installed, but prometheus/promtool are not on PATH"
  # Release the lock: `start` execs Prometheus next, which must not hold it for its whole life.
  exec 9>&-
}

start_prometheus() {
  dir=$1 port=$2 target=$3
  [ -d "$dir" ] || die "no such directory: $dir"
  case "$port" in '' | *[!0-9]*) die "bad port: $port" ;; esac
  have_prometheus || die "prometheus is not installed: run scripts/prometheus.sh install"
  # Our own config: the package's /etc/prometheus/prometheus.yml (and /etc/default/prometheus) are never read.
  cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: keytally
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: /metrics
    static_configs:
      - targets: ['$target']
EOF
  promtool check config "$dir/prometheus.yml" >&2 || die "generated config $dir/prometheus.yml is invalid"
  exec prometheus \
    --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" \
    --log.level=warn
}

cmd=${1:-}
case "$cmd" in
  install) install_prometheus ;;
  start)
    [ $# -eq 4 ] || die "usage: $0 start DIR PORT TARGET"
    install_prometheus
    start_prometheus "$2" "$3" "$4"
    ;;
  *) die "usage: $0 install | start DIR PORT TARGET" ;;
esac
