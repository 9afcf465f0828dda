#!/usr/bin/env bash
# Installs the Debian packages the product needs, only those that are missing.
#   scripts/system-deps.sh run    — what the app needs at run time (WeasyPrint's Pango, fonts)
#   scripts/system-deps.sh test   — plus what the tests need (Chromium, pdftotext)
#   scripts/system-deps.sh bench  — plus what the benchmarks need (wrk)
set -euo pipefail

# postgresql-client: pg_dump/pg_restore for `flask backup` — Debian 12's is 15, the server's major
# version here (the tools must be of the server's version or newer; `flask backup` checks).
run_pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core postgresql-client)
test_pkgs=(chromium poppler-utils)
bench_pkgs=(wrk)

want=("${run_pkgs[@]}")
case "${1:-run}" in
  run) ;;
  test) want+=("${test_pkgs[@]}") ;;
  bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
