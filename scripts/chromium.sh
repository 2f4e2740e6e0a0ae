#!/bin/sh
# Debian's Chromium for the web UI's browser tests (playwright-core drives it; playwright's own browser
# downloads are never used: this machine and CI reach Debian's packages, not a browser CDN).
#
#   scripts/chromium.sh install   install Debian's `chromium` package if /usr/bin/chromium is missing,
#                                 then check that it starts (prints its version)
#   scripts/chromium.sh path      print the binary's path (after install)
#
# Errors go to stderr with the reason and a non-zero exit: a test that needs Chromium fails loudly.
set -eu

BIN=${KEYTALLY_CHROMIUM:-/usr/bin/chromium}

die() {
  echo "chromium.sh: $*" >&2
  exit 1
}

have() {
  [ -x "$BIN" ]
}

install_chromium() {
  if ! have; then
    [ "$(id -u)" = 0 ] || die "$BIN is missing and installing it needs root: run 'apt-get install chromium' as root"
    command -v apt-get >/dev/null 2>&1 || die "$BIN is missing and apt-get is not available to install it"
    # Several test files may ask at once; apt's lock would make all but one fail.
    exec 9>/tmp/keytally-chromium-install.lock
    flock -w 900 9 || die "timed out waiting for another install of chromium"
    if ! have; then
      {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends chromium ||
          { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends chromium; }
      } >&2 || die "apt-get install chromium failed"
    fi
    exec 9>&-
    have || die "the chromium package installed, but $BIN is not there"
  fi
  # It must start, not only exist: a broken install fails here with Chromium's own message.
  out=$("$BIN" --headless --no-sandbox --disable-gpu --version 2>&1) || die "$BIN does not start: $out"
  echo "$out" | grep -q -i chrom || die "$BIN --version printed something unexpected: $out"
  echo "$out"
}

case "${1:-}" in
  install) install_chromium ;;
  path)
    have || die "$BIN is missing: run scripts/chromium.sh install"
    echo "$BIN"
    ;;
  *) die "usage: $0 install | path" ;;
esac
