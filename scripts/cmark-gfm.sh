#!/bin/sh
# cmark-gfm, the GitHub-flavoured markdown renderer, for the test that renders `keytally report
# --format markdown` as GitHub would.
#
#   scripts/cmark-gfm.sh install    install Debian's `cmark-gfm` package if it is missing
#
# There is no service to start or stop: the test runs the command once per render.
# Errors go to stderr with the reason and a non-zero exit: the test fails loudly rather than skip.
set -eu

die() {
  echo "cmark-gfm.sh: $*" >&2
  exit 1
}

have() { command -v cmark-gfm >/dev/null 2>&1; }

install_cmark() {
  have && return 0
  [ "$(id -u)" = 0 ] || die "cmark-gfm is missing and installing it needs root: run 'apt-get install cmark-gfm' as root"
  command -v apt-get >/dev/null 2>&1 || die "cmark-gfm is missing and apt-get is not available to install it"
  # Test files may ask at once; apt's own lock would make all but one fail.
  exec 9>/tmp/keytally-cmark-gfm-install.lock
  flock -w 600 9 || die "timed out waiting for another install of cmark-gfm"
  if ! have; then
    {
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 cmark-gfm ||
        { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 cmark-gfm; }
    } >&2 || die "apt-get install cmark-gfm failed"
    have || die "the cmark-gfm package installed, but cmark-gfm is not on PATH"
  fi
  exec 9>&-
}

case "${1:-}" in
  install) install_cmark ;;
  *) die "usage: $0 install" ;;
esac
