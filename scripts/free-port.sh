#!/usr/bin/env bash
# Prints a TCP port on localhost that no server (PostgreSQL or other) uses, so
# that several throwaway clusters can run side by side (pg_virtualenv -t alone
# may hand two of them the same port).
for port in $(seq 5432 5632); do
  [ -e "/var/run/postgresql/.s.PGSQL.$port" ] && continue
  [ -e "/tmp/.s.PGSQL.$port" ] && continue
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$port"
    exit 0
  fi
done
echo "no free port between 5432 and 5632" >&2
exit 1
