# test/reliability/checks/valgrind.sh — memory safety. Sourced by run.sh.
#
# Starts a second postmaster by hand under valgrind (initdb into a temporary
# directory as the postgres user, a spare port, a Unix socket only), runs the
# operation's pg_regress files (OP_VALGRIND_SQL) through psql the way
# pg_regress does, stops it, and reads the valgrind logs: errors whose kind is
# "Invalid read", "Invalid write" or "uninitialised" and whose stack has a zdm
# frame fail the check. Errors without a zdm frame are PostgreSQL's own (it is
# not built with USE_VALGRIND here) and are only counted.
#
# No --error-exitcode: a backend exiting with it would look like a crash to the
# postmaster, which would then restart every backend; the logs are the verdict.

_vg_parse() {   # _vg_parse DIR: prints "files errors zdm_errors signals" and writes DIR/zdm_errors.txt
    awk -v out="$1/zdm_errors.txt" '
        function flush() {
            if (hdr != "") {
                if (hdr ~ /Invalid read|Invalid write|uninitialised/) {
                    total++
                    if (zdm) { nz++; if (nz <= 5) print "== " FILENAME "\n" rec "\n" > out }
                }
                if (hdr ~ /Process terminating with default action of signal/) sig++
            }
            hdr = ""; rec = ""; zdm = 0
        }
        FNR == 1 { flush(); files++ }
        {
            line = $0; sub(/^==[0-9]+== ?/, "", line)
            if (line == "") { flush(); next }
            if (hdr == "") hdr = line
            rec = rec line "\n"
            if (line ~ /^ *(at|by) 0x/ && line ~ /zdm/) zdm = 1
        }
        END { flush(); printf "%d %d %d %d\n", files, total, nz, sig }
    ' "$1"/vg.*.log 2>/dev/null || echo "0 0 0 0"
}

check_valgrind() {
    CUR="$OP/valgrind"
    md valgrind "### Memory safety (valgrind)"
    md valgrind ""
    local why=""
    command -v valgrind >/dev/null || why="valgrind is not installed (apt-get install valgrind)"
    local bindir
    bindir=$("${PG_CONFIG:-pg_config}" --bindir 2>/dev/null)
    [[ -z "$why" && ! -x "$bindir/postgres" ]] && why="no postgres binary under $bindir"
    local runas=()
    if [[ -z "$why" && "$(id -u)" == 0 ]]; then
        if id postgres >/dev/null 2>&1 && command -v runuser >/dev/null; then runas=(runuser -u postgres --)
        else why="running as root without a postgres user to run the server as"; fi
    fi
    if [[ -n "$why" ]]; then
        figure "valgrind errors in zdm frames" "not run: $why"
        skip "valgrind check not run: $why"
        md valgrind "Not run: $why."
        return
    fi

    local vg t_start=$SECONDS budget=${ZDM_VALGRIND_TIMEOUT:-150}
    local sqlfiles=("${OP_VALGRIND_SQL[@]}")
    if ((LARGE)); then   # --large: every pg_regress file
        sqlfiles=()
        for f in "$REPO"/sql/*.sql; do sqlfiles+=("sql/$(basename "$f")"); done
        budget=${ZDM_VALGRIND_TIMEOUT:-900}
    fi
    vg=$(mktemp -d /tmp/vg.XXXXXX)
    chmod 755 "$vg"
    ((${#runas[@]})) && chown postgres: "$vg"
    local supp="" f
    for f in /usr/lib/postgresql/"${PGVERSION:-15}" /usr/share/postgresql /usr/share/postgresql-common /usr/share/doc/postgresql*; do
        [[ -d "$f" ]] || continue
        supp=$(find "$f" -name 'valgrind.supp' 2>/dev/null | head -1)
        [[ -n "$supp" ]] && break
    done
    if ! "${runas[@]}" "$bindir/initdb" -D "$vg/data" -A trust -U postgres -E UTF8 --no-sync >"$vg/initdb.log" 2>&1; then
        skip "valgrind check not run: initdb failed ($(tail -1 "$vg/initdb.log"))"
        md valgrind "Not run: initdb failed."
        rm -rf "$vg"; return
    fi
    local port=$((${PGPORT:-5432} + 1111))
    while pg_isready -q -h localhost -p "$port" >/dev/null 2>&1 || [[ -e "$vg/.s.PGSQL.$port" ]]; do port=$((port + 1)); done
    local vgopts=(--quiet --trace-children=yes --leak-check=no --num-callers=40 --error-limit=no
                  "--log-file=$vg/vg.%p.log")
    [[ -n "$supp" ]] && vgopts+=("--suppressions=$supp")
    "${runas[@]}" valgrind "${vgopts[@]}" "$bindir/postgres" -D "$vg/data" -p "$port" \
        -c listen_addresses= -c "unix_socket_directories=$vg" -c autovacuum=off -c jit=off \
        -c shared_buffers=32MB -c max_connections=20 -c max_parallel_workers_per_gather=0 \
        -c fsync=off -c log_min_messages=warning >"$vg/server.log" 2>&1 &
    local vgpid=$!
    BG[valgrind]=$vgpid
    VG_STOP=("${runas[@]}" "$bindir/pg_ctl" -D "$vg/data" stop -m immediate)
    _vg_up() { pg_isready -q -h "$vg" -p "$port" -U postgres >/dev/null 2>&1; }
    if ! wait_until 180 _vg_up; then
        fail "the server under valgrind did not start: $(tail -3 "$vg/server.log" | tr '\n' ' ')"
        kill "$vgpid" 2>/dev/null; bg_wait valgrind
        md valgrind "Not completed: the server under valgrind did not start in 180 s."
        rm -rf "$vg"; return
    fi
    local start_s=$((SECONDS - t_start))
    local vpsql=(psql -X -h "$vg" -p "$port" -U postgres)
    PGOPTIONS= "${vpsql[@]}" -q -d postgres -c "CREATE DATABASE contrib_regression TEMPLATE template0" >/dev/null 2>&1
    local results=() file name left rc timed_out=0
    for file in "${sqlfiles[@]}"; do
        name=$(basename "$file" .sql)
        left=$((budget - (SECONDS - t_start)))
        if ((left < 10)); then timed_out=1; results+=("$name: not run (time budget spent)"); continue; fi
        local t1=$SECONDS
        # As pg_regress runs a file: psql -a -q, its time zone and date style.
        PGOPTIONS= PGTZ=PST8PDT PGDATESTYLE='Postgres, MDY' timeout "$left" \
            "${vpsql[@]}" -a -q -d contrib_regression <"$REPO/$file" >"$vg/$name.out" 2>&1
        rc=$?
        ((rc == 124)) && timed_out=1
        local d="not compared"
        if [[ -r "$REPO/expected/$name.out" ]]; then
            local nd
            nd=$(diff "$REPO/expected/$name.out" "$vg/$name.out" | grep -c '^[<>]')
            if ((nd == 0)); then d="output identical to expected/$name.out"; else d="$nd lines differ from expected/$name.out"; fi
        fi
        results+=("$name: psql exit $rc in $((SECONDS - t1)) s, $d")
    done
    "${runas[@]}" "$bindir/pg_ctl" -D "$vg/data" stop -m fast -t 120 >/dev/null 2>&1 || kill "$vgpid" 2>/dev/null
    bg_wait valgrind
    VG_STOP=()
    local files total nz sig
    read -r files total nz sig <<<"$(_vg_parse "$vg")"
    files=$(find "$vg" -maxdepth 1 -name 'vg.*.log' | wc -l)
    local elapsed=$((SECONDS - t_start))
    if ((files == 0)); then
        fail "valgrind wrote no log: $(tail -3 "$vg/server.log" | tr '\n' ' ')"
    elif ((timed_out)); then
        skip "the valgrind run did not finish within its ${budget}s budget (ZDM_VALGRIND_TIMEOUT); the logs so far are checked below"
    else
        pass "the pg_regress files ran under valgrind ($files processes, ${elapsed}s)"
    fi
    check_eq "valgrind errors (Invalid read/write, uninitialised) with a zdm frame" "$nz" 0
    check_eq "processes killed by a signal under valgrind" "$sig" 0
    for f in "${results[@]}"; do note "$f"; done

    md valgrind "A second postmaster under \`valgrind --trace-children=yes --leak-check=no\` (suppressions: ${supp:-none found under /usr/lib/postgresql or /usr/share/postgresql*}; PostgreSQL here is not built with USE_VALGRIND, so palloc chunks are not tracked one by one: this finds uninitialised reads, use of freed or unmapped malloc memory and wild accesses, not overruns inside a memory context). Started in ${start_s} s; the whole check took ${elapsed} s."
    md valgrind ""
    for f in "${results[@]}"; do md valgrind "- $f"; done
    md valgrind ""
    figure "valgrind errors in zdm frames" "$nz (of $total Invalid read/write/uninitialised errors in $files processes; files: ${sqlfiles[*]})"
    md valgrind "Processes traced: $files. Errors of the kinds Invalid read / Invalid write / uninitialised: $total in all, **$nz with a zdm frame**. Processes killed by a signal: $sig."
    if ((nz > 0)); then
        md valgrind ""
        md valgrind '```'
        head -60 "$vg/zdm_errors.txt" >>"$W/md/$OP/valgrind.md"
        md valgrind '```'
        cp "$vg/zdm_errors.txt" "$W/valgrind_zdm_errors.txt"
    fi
    if ((KEEP)); then note "valgrind directory kept: $vg"; else rm -rf "$vg"; fi
}
