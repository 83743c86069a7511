#!/usr/bin/env bash
# make bench: the benchmark of issue 7 (see scripts/bench.py). Needs PostgreSQL (make
# services) and wrk (installed here from Debian's packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh >/dev/null
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }
  else
    echo "wrk is needed: sudo apt-get install -y wrk"; exit 1
  fi
fi
exec .venv/bin/python scripts/bench.py
