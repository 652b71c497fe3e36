#!/usr/bin/env bash
# Installs what zdm needs from Debian's packages (when missing), builds the
# module and the unit tests, and installs the extension into PostgreSQL 15.
# Works as root or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  postgresql-15 postgresql-server-dev-15 postgresql-client-15 postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  build-essential g++ make cmake libgtest-dev clang-format
  python3 python3-alembic python3-psycopg2 sqitch libdbd-pg-perl
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG
echo "== building zdm"
make -s PG_CONFIG="$PG_CONFIG" -j"$(nproc)"
$SUDO make -s PG_CONFIG="$PG_CONFIG" install
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== zdm $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" zdm.control) installed into $($PG_CONFIG --sharedir)/extension"
