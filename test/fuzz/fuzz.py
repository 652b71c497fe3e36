#!/usr/bin/env python3
"""Differential fuzz test of zdm (issue 9, Tests).

Two apps write random sequences to one table while a migration runs: the old
app writes the old shape only, the new app the new shape only. A Python model
holds the logical value of every live row; after every commit (and after
finish/abort) each app's SELECT is compared with the model, and the two shapes
are compared in SQL (EXCEPT both ways over the converted column).

CI:   python3 test/fuzz/fuzz.py                 (seed 1, <= 150 s)
Long: python3 test/fuzz/fuzz.py --seed random --minutes 30
Connects with the PG* environment variables, creates its own database and
drops it at the end.
"""
import argparse
import datetime
import io
import os
import random
import shutil
import sys
import threading
import time
import traceback

import psycopg2
import psycopg2.extensions

# Cases excluded to keep CI green while a fix has not landed: name -> the
# finding in /work/tools/FUZZ_FINDINGS.md. Printed at start, with how many
# generated cases each one changed. Remove an entry once its fix is on main.
SKIPS = {
    # Documented (README, Backfill): before the backfill reaches a row, a NULL the
    # new app writes into an added column reads as "not converted yet".
    "F3": "add_column: the new app's UPDATE SET w = NULL on a row the backfill has not reached "
          "is filled with up(v) by the backfill (FUZZ_FINDINGS.md F3; README Backfill)",
}


def f3(sc, side, c):
    return ("F3" in SKIPS and sc.op.name == "add_column" and sc.phase == "window" and side == "new"
            and c == "w")

DATESTYLES = ["ISO, MDY", "ISO, DMY", "SQL, DMY", "SQL, MDY", "Postgres, MDY", "German"]
TIMEZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Pacific/Chatham"]
INTERVALSTYLES = ["postgres", "iso_8601", "sql_standard", "postgres_verbose"]
SEARCH_PATHS = ["public", '"$user", public', "shadow, pg_catalog, public"]
DML_FORMS = ["insert", "insert_multi", "copy", "on_conflict_update", "on_conflict_nothing",
             "merge", "update", "update_from", "update_null", "delete", "replica"]


def up_add(v):
    return None if v is None else v * 2


def down_drop(v):
    return None if v is None else v + 1


class Op:
    """One same-table operation: its columns and how a write maps to the
    logical state (a tuple) both apps must read."""

    def __init__(self, name, create, begin, old, new, new_final, kind, nullable=True,
                 single=True, conv=None):
        self.name, self.create, self.begin = name, create, begin
        self.old, self.new, self.new_final = old, new, new_final
        self.kind, self.nullable, self.single, self.conv = kind, nullable, single, conv

    def old_view(self, s):
        if self.name == "add_column":
            return (s[0],)
        return s if not self.single else (s[0],)

    def new_view(self, s):
        if self.name == "drop_column":
            return (s[0],)
        return s if not self.single else (s[0],)

    def write(self, side, kind, assigned, prev):
        """assigned: column -> value as the statement assigned it (an INSERT
        assigns every column it lists, unlisted ones are None)."""
        a = assigned
        if self.single:
            col = (self.old if side == "old" else self.new)[0]
            if kind == "update" and col not in a:
                return prev
            return (a.get(col),)
        if self.name == "add_column":
            if side == "old":
                if kind == "update":
                    if "v" not in a:
                        return prev
                return (a.get("v"), up_add(a.get("v")))
            if kind == "insert":
                w = a.get("w")
                # an INSERT filling only the old side is an old-side write
                return (a.get("v"), w if w is not None else up_add(a.get("v")))
            return (a.get("v", prev[0]), a.get("w", prev[1]))
        if self.name == "drop_column":
            if side == "old":
                if kind == "update":
                    return (a.get("v", prev[0]), a.get("w", prev[1]))
                return (a.get("v"), a.get("w"))
            if kind == "insert":
                return (a.get("v"), down_drop(a.get("v")))
            return (a.get("v", prev[0]), prev[1])  # a drop-only UPDATE recomputes nothing
        raise AssertionError(self.name)


OPS = [
    Op("rename", "v text", "SELECT zdm.begin_rename('public.t', 'v', 'w')", ["v"], ["w"], ["w"],
       "text", conv="v"),
    Op("alter_type_bigint", "v int", "SELECT zdm.begin_alter_type('public.t', 'v', 'bigint')",
       ["v"], ["v_new"], ["v"], "int", conv="v::bigint"),
    Op("alter_type_varchar", "v text", "SELECT zdm.begin_alter_type('public.t', 'v', 'varchar(8)')",
       ["v"], ["v_new"], ["v"], "text8", conv="v::varchar(8)"),
    Op("add_column", "v int",
       "SELECT zdm.begin_add_column('public.t', 'w', 'int', up => 'v * 2')",
       ["v"], ["v", "w"], ["v", "w"], "int", single=False),
    Op("drop_column", "v int, w int",
       "SELECT zdm.begin_drop_column('public.t', 'w', down => 'v + 1')",
       ["v", "w"], ["v"], ["v"], "int", single=False),
    Op("surname", "last_name text",
       "SELECT zdm.begin_add_column('public.t', 'surname', 'text', up => 'last_name', "
       "not_null => true, migration => 'surname_%(idx)d'); "
       "SELECT zdm.begin_drop_column('public.t', 'last_name', down => 'surname', migration => 'surname_%(idx)d')",
       ["last_name"], ["surname"], ["surname"], "text", nullable=False, conv="last_name"),
]

WORDS = ["a", "O'Brien", "smith", "Zoë", "x y", "", "back\\slash", "tab\tx", "1999-01-02", "NULL",
         "längerer", "ünï", "q\"q"]


class Failure(Exception):
    pass


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + v.replace("'", "''") + "'"


class Scenario:
    def __init__(self, fz, idx, rng):
        self.fz, self.idx, self.rng = fz, idx, rng
        self.op = rng.choice(OPS)
        self.keytype = rng.choice(["int", "timestamp"])
        self.use_role = rng.random() < 0.3
        self.rls = rng.random() < 0.3
        self.log = []
        self.model = {}      # committed: key -> state tuple
        self.converted = set()
        self.pending = {"old": {}, "new": {}}   # key -> state or None (deleted)
        self.pconv = {"old": set(), "new": set()}
        self.phase = "before"   # before, window, finished, aborted
        self.settings = {}

    def mig(self):
        return "'surname_%d'" % self.idx if self.op.name == "surname" else "NULL"

    # ---- SQL helpers
    def key(self, n):
        if self.keytype == "int":
            return str(n)
        t = datetime.datetime(2000, 1, 1) + datetime.timedelta(hours=n)
        return "TIMESTAMP '%s'" % t.strftime("%Y-%m-%d %H:%M:%S")

    def kn(self, alias="t"):
        if self.keytype == "int":
            return "%s.id" % alias
        return "(extract(epoch from %s.id - TIMESTAMP '2000-01-01') / 3600)::int" % alias

    def ex(self, who, conn, sql, fetch=False):
        self.log.append("-- %s\n%s;" % (who, sql))
        with conn.cursor() as c:
            c.execute(sql)
            if fetch:
                return c.fetchall()

    def value(self, col_idx=0):
        r = self.rng
        k = self.op.kind
        if k == "int":
            return r.choice([0, 1, -7, 42, 2147483, -100000000, 999999999, r.randint(-10**6, 10**6)])
        if k == "text8":
            return r.choice(WORDS[:9] + ["abcdefgh"])[:8]
        return r.choice(WORDS)

    # ---- connections
    def app_conn(self, side):
        r = self.rng
        c = psycopg2.connect(dbname=self.fz.db)
        st = {
            "DateStyle": r.choice(DATESTYLES), "TimeZone": r.choice(TIMEZONES),
            "IntervalStyle": r.choice(INTERVALSTYLES), "search_path": r.choice(SEARCH_PATHS),
        }
        mismatch = self.op.name != "drop_column" and r.random() < 0.15
        st["zdm.writer"] = ("old" if side == "new" else "new") if mismatch else r.choice(["auto", side])
        if "F2" in SKIPS and self.op.name == "add_column" and side == "old" and st["zdm.writer"] == "new":
            st["zdm.writer"] = "auto"  # its INSERTs fill only v: F2
            self.fz.count("skip", "F2")
        self.settings[side] = st
        for k, v in st.items():
            self.ex(side, c, "SET %s = %s" % (k if k != "DateStyle" else "DateStyle", lit(v)))
        if self.use_role:
            self.ex(side, c, "SET ROLE fuzz_app")
        c.commit()
        self.fz.count("setting", "DateStyle=" + st["DateStyle"])
        self.fz.count("setting", "TimeZone=" + st["TimeZone"])
        self.fz.count("setting", "IntervalStyle=" + st["IntervalStyle"])
        self.fz.count("setting", "search_path=" + st["search_path"])
        self.fz.count("setting", "zdm.writer=%s(%s app)" % (st["zdm.writer"], side))
        return c

    # ---- model views
    def visible(self, side):
        m = dict(self.model)
        for k, s in self.pending[side].items():
            if s is None:
                m.pop(k, None)
            else:
                m[k] = s
        return m

    def cols(self, side):
        if self.phase in ("before", "aborted"):
            return self.op.old
        if self.phase == "finished":
            return self.op.new_final
        return self.op.old if side == "old" else self.op.new

    def app_side(self, side):
        return "old" if self.phase in ("before", "aborted") else ("new" if self.phase == "finished" else side)

    def free_keys(self, side):
        other = "new" if side == "old" else "old"
        vis = self.visible(side)
        return [k for k in vis if k not in self.pending[other]]

    def newkey(self):
        self.fz.next_key += 1
        return self.fz.next_key

    # ---- writes
    def assign_vals(self, side, kind, allow_null):
        cols = self.cols(side)
        op = self.op
        a = {}
        r = self.rng
        if kind == "update" and len(cols) > 1:
            # the new app of add_column always assigns w; drop_column's new app v
            pick = [c for c in cols if r.random() < 0.6] or [cols[-1]]
            if op.name == "add_column" and self.app_side(side) == "new" and "w" not in pick:
                pick.append("w")
            cols = pick
        for c in cols:
            v = self.value()
            if allow_null and op.nullable and r.random() < 0.25:
                if not (op.name == "drop_column" and kind == "insert" and c == "w"):
                    v = None
            if v is None and kind == "update" and f3(self, side, c):
                v = self.value()
                self.fz.count("skip", "F3")
            if (v is None and "F2" in SKIPS and kind == "insert" and op.name == "add_column"
                    and c == "w" and self.phase == "window" and side == "new"
                    and self.settings[side]["zdm.writer"] == "new"):
                v = self.value()
                self.fz.count("skip", "F2")
            a[c] = v
        return a

    def apply(self, side, key, kind, a):
        vis = self.visible(side)
        prev = vis.get(key)
        eff = self.app_side(side)
        if self.phase in ("before", "aborted", "finished"):
            # no migration: plain columns
            cols = self.cols(side)
            if kind == "insert" or prev is None:
                st = tuple(a.get(c) for c in cols)
            else:
                st = tuple(a.get(c, prev[i]) for i, c in enumerate(cols))
            # keep state as the full tuple of the op
            if self.phase == "finished":
                st = self._from_new_final(st, prev)
            elif self.op.name == "add_column":
                st = (st[0], up_add(st[0]))  # w does not exist: the backfill computes it
            self.pending[side][key] = st
            return
        st = self.op.write(eff, "insert" if (kind == "insert" or prev is None) else "update", a,
                           prev)
        self.pending[side][key] = st
        if kind == "insert" or eff == "new" or self.op.single:
            # an old-side write of a rename/alter_type converts the row too
            self.pconv[side].add(key)
        elif self.op.name in ("add_column",) and "v" in a:
            self.pconv[side].add(key)
        elif self.op.name == "drop_column":
            self.pconv[side].add(key)

    def _from_new_final(self, st, prev):
        if self.op.name == "drop_column":
            return (st[0], prev[1] if prev else None)
        return st

    def write(self, side, conn):
        r = self.rng
        form = r.choice(DML_FORMS)
        if form == "replica" and self.use_role:
            form = "update"
        if form == "copy" and self.use_role and self.rls:
            form = "insert_multi"  # PostgreSQL: COPY FROM not supported with row-level security
        free = self.free_keys(side)
        if not free and form not in ("insert", "insert_multi", "copy", "on_conflict_nothing"):
            form = "insert"
        cols = self.cols(side)
        t = "public.t"
        fz = self.fz
        if form in ("insert", "insert_multi", "replica"):
            n = 1 if form != "insert_multi" else r.randint(2, 4)
            rows = []
            for _ in range(n):
                k = self.newkey()
                a = self.assign_vals(side, "insert", True)
                rows.append((k, a))
            pre = ""
            if form == "replica":
                self.ex(side, conn, "SET LOCAL session_replication_role = replica")
            vals = ", ".join("(%s, 0, %s)" % (self.key(k), ", ".join(lit(a[c]) for c in cols))
                             for k, a in rows)
            self.ex(side, conn, "INSERT INTO %s (id, k, %s) VALUES %s" % (t, ", ".join(cols), vals))
            if form == "replica" and free:
                k = r.choice(free)
                a = self.assign_vals(side, "update", True)
                self.ex(side, conn, "UPDATE %s SET %s WHERE id = %s" % (
                    t, ", ".join("%s = %s" % (c, lit(v)) for c, v in a.items()), self.key(k)))
                self.apply(side, k, "update", a)
            if form == "replica":
                self.ex(side, conn, "SET LOCAL session_replication_role = origin")
            for k, a in rows:
                self.apply(side, k, "insert", a)
            del pre
        elif form == "copy":
            n = r.randint(1, 4)
            buf = io.StringIO()
            rows = []
            for _ in range(n):
                k = self.newkey()
                a = self.assign_vals(side, "insert", True)
                rows.append((k, a))
                if self.keytype == "int":
                    kv = str(k)
                else:
                    kv = (datetime.datetime(2000, 1, 1) + datetime.timedelta(hours=k)).strftime(
                        "%Y-%m-%d %H:%M:%S")
                def esc(v):
                    if v is None:
                        return "\\N"
                    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                buf.write("\t".join([kv, "0"] + [esc(a[c]) for c in cols]) + "\n")
            sql = "COPY %s (id, k, %s) FROM STDIN" % (t, ", ".join(cols))
            self.log.append("-- %s\n%s;\n%s\\." % (side, sql, buf.getvalue()))
            buf.seek(0)
            with conn.cursor() as c:
                c.copy_expert(sql, buf)
            for k, a in rows:
                self.apply(side, k, "insert", a)
        elif form in ("on_conflict_update", "on_conflict_nothing", "merge"):
            keys = []
            for _ in range(r.randint(1, 3)):
                if free and r.random() < 0.6:
                    k = r.choice(free)
                    if k not in keys:
                        keys.append(k)
                else:
                    keys.append(self.newkey())
            vis = self.visible(side)
            ucols = cols
            if self.phase == "window" and len(cols) > 1 and r.random() < 0.5:
                ucols = [cols[-1]]
            rows = [(k, self.assign_vals(side, "insert", True)) for k in keys]
            if self.op.name == "drop_column" and self.phase == "window" and side == "old":
                for _, a in rows:
                    if a.get("w") is None:
                        a["w"] = 5
            # An upsert's NULL w on an existing row is the same ambiguity as F3
            # (MERGE assigns it as it is; the backfill may fill it later).
            if "F3" in SKIPS and self.op.name == "add_column" and self.phase == "window" and side == "new":
                for k, a in rows:
                    if k in vis and a.get("w") is None and form != "on_conflict_nothing":
                        a["w"] = self.value()
                        self.fz.count("skip", "F3")
            vals = ", ".join("(%s, %s)" % (self.key(k), ", ".join(lit(a[c]) for c in cols))
                             for k, a in rows)
            typed = ""
            if form == "merge":
                sets = ", ".join("%s = s.%s" % (c, c) for c in ucols)
                sql = ("MERGE INTO %s USING (VALUES %s) AS s(id, %s) ON t.id = s.id "
                       "WHEN MATCHED THEN UPDATE SET %s WHEN NOT MATCHED THEN INSERT (id, k, %s) "
                       "VALUES (s.id, 1, %s)" % (
                           t, vals, ", ".join(cols), sets, ", ".join(cols),
                           ", ".join("s." + c for c in cols)))
                # VALUES with NULLs: cast via a typed first row is awkward; use a CTE-free form
                sql = sql.replace("USING (VALUES", "USING (SELECT * FROM (VALUES", 1).replace(
                    ") AS s(", ") AS s0(", 1)
                sql = sql.replace(" ON t.id", ") AS s ON t.id", 1)
            else:
                act = ("DO NOTHING" if form == "on_conflict_nothing" else
                       "DO UPDATE SET " + ", ".join("%s = EXCLUDED.%s" % (c, c) for c in ucols))
                sql = "INSERT INTO %s (id, %s) VALUES %s ON CONFLICT (id) %s" % (
                    t, ", ".join(cols), vals, act)
            del typed
            if any(a[c] is None for _, a in rows for c in cols):
                # untyped NULL columns in VALUES: give the column types
                sql = self._typed_values(sql, rows, cols)
            self.ex(side, conn, sql)
            for k, a in rows:
                if k in vis:
                    if form != "on_conflict_nothing":
                        upd = {c: a[c] for c in ucols}
                        # EXCLUDED is the proposed row after BEFORE INSERT triggers:
                        # zdm's trigger already filled an added column left NULL
                        # with up(v), so SET w = EXCLUDED.w assigns that.
                        if (form == "on_conflict_update" and self.op.name == "add_column"
                                and self.phase == "window" and "w" in upd
                                and a.get("w") is None):
                            upd["w"] = up_add(a.get("v"))
                        self.apply(side, k, "update", upd)
                else:
                    self.apply(side, k, "insert", a)
        elif form in ("update", "update_null", "update_from"):
            ks = r.sample(free, min(len(free), r.randint(1, 3)))
            if form == "update_from":
                a_list = [(k, self.assign_vals(side, "update", False)) for k in ks]
                ucols = list(a_list[0][1].keys())
                for _, a in a_list:
                    for c in ucols:
                        a.setdefault(c, self.value())
                    for c in list(a):
                        if c not in ucols:
                            del a[c]
                vals = ", ".join("(%s, %s)" % (self.key(k), ", ".join(lit(a[c]) for c in ucols))
                                 for k, a in a_list)
                sql = "UPDATE %s SET %s, k = t.k + 1 FROM (VALUES %s) AS s(id, %s) WHERE t.id = s.id" % (
                    t, ", ".join("%s = s.%s" % (c, c) for c in ucols), vals, ", ".join(ucols))
                self.ex(side, conn, sql)
                for k, a in a_list:
                    self.apply(side, k, "update", a)
            else:
                a = self.assign_vals(side, "update", form == "update_null")
                if form == "update_null" and self.op.nullable:
                    for c in a:
                        if f3(self, side, c):
                            self.fz.count("skip", "F3")
                            continue
                        if not (self.op.name == "add_column" and c == "v" and side == "new"):
                            a[c] = None
                            break
                if r.random() < 0.2:
                    a = {}   # assigns neither side: k only
                sets = ", ".join(["%s = %s" % (c, lit(v)) for c, v in a.items()] + ["k = k + 1"])
                sql = "UPDATE %s SET %s WHERE id IN (%s)" % (t, sets, ", ".join(self.key(k) for k in ks))
                self.ex(side, conn, sql)
                for k in ks:
                    if a:
                        self.apply(side, k, "update", a)
                    else:
                        # k only: the row is locked all the same
                        self.pending[side][k] = self.visible(side)[k]
        elif form == "delete":
            ks = r.sample(free, 1)
            self.ex(side, conn, "DELETE FROM %s WHERE id = %s" % (t, self.key(ks[0])))
            self.pending[side][ks[0]] = None
        fz.count("dml", form)
        fz.count("op", self.op.name)
        fz.writes += 1

    def _typed_values(self, sql, rows, cols):
        types = {"text": "text", "text8": "text", "int": "int"}
        ty = types[self.op.kind]
        if self.phase != "before" and self.op.name == "alter_type_bigint" and "v_new" in cols:
            pass
        first = "(%s, %s)" % (self.key(rows[0][0]), ", ".join(lit(rows[0][1][c]) for c in cols))
        typed = "(%s, %s)" % (self.key(rows[0][0]),
                              ", ".join("%s::%s" % (lit(rows[0][1][c]), ty) for c in cols))
        return sql.replace(first, typed, 1)

    def commit(self, side, conn):
        self.ex(side, conn, "COMMIT")
        conn.commit()
        for k, s in self.pending[side].items():
            if s is None:
                self.model.pop(k, None)
                self.converted.discard(k)
            else:
                self.model[k] = s
        self.converted |= self.pconv[side]
        self.pending[side] = {}
        self.pconv[side] = set()

    def rollback(self, side, conn):
        self.ex(side, conn, "ROLLBACK")
        conn.rollback()
        self.pending[side] = {}
        self.pconv[side] = set()

    # ---- checks
    def check(self, conns, admin, what):
        self.fz.checks += 1
        for side in ("old", "new"):
            # reading through a connection commits it: only one with no open writes
            if self.pending[side]:
                continue
            self.check_side(side, conns[side], what)
        if self.phase == "window" and self.op.single:
            conv = self.op.conv
            newc = self.op.new[0]
            ks = sorted(self.converted)
            if ks:
                kl = "ARRAY[%s]::int[]" % ", ".join(map(str, ks))
                q = ("SELECT count(*) FROM ((SELECT %s AS k, %s AS x FROM public.t WHERE %s = ANY(%s) EXCEPT "
                     "SELECT %s, %s FROM public.t) UNION ALL (SELECT %s, %s FROM public.t WHERE %s = ANY(%s) "
                     "EXCEPT SELECT %s, %s FROM public.t)) d" % (
                         self.kn(), conv, self.kn(), kl, self.kn(), newc, self.kn(), newc, self.kn(), kl,
                         self.kn(), conv))
                n = self.ex("admin", admin, q, fetch=True)[0][0]
                if n:
                    raise Failure("%s: %d rows differ between the shapes (EXCEPT both ways over %s vs %s)"
                                  % (what, n, conv, newc))

    def check_side(self, side, conn, what):
        cols = self.cols(side)
        rows = self.ex(side, conn, "SELECT %s, %s FROM public.t" % (self.kn(), ", ".join(cols)), fetch=True)
        self.ex(side, conn, "COMMIT")
        conn.commit()
        got = {r[0]: tuple(r[1:]) for r in rows}
        if set(got) != set(self.model):
            raise Failure("%s: %s app sees keys %s, model %s" % (
                what, side, sorted(set(got) ^ set(self.model))[:10], "symmetric difference"))
        bad = []
        for k, s in self.model.items():
            if self.phase == "window" and side == "new" and k not in self.converted:
                continue
            if self.phase == "finished":
                exp = self.op.new_view(s)
            elif self.phase == "window" and side == "new":
                exp = self.op.new_view(s)
            else:
                exp = self.op.old_view(s)
            if tuple(got[k]) != tuple(exp):
                bad.append((k, got[k], exp))
        if bad:
            self.fz.divergent += len(bad)
            raise Failure("%s: %s app (%s) reads %d divergent rows, first: key %s reads %r, model %r" % (
                what, side, ", ".join(cols), len(bad), bad[0][0], bad[0][1], bad[0][2]))

    # ---- run
    def run(self, deadline):
        fz, r = self.fz, self.rng
        admin = psycopg2.connect(dbname=fz.db)
        admin.autocommit = True
        op = self.op
        keyt = "int" if self.keytype == "int" else "timestamp"
        self.ex("admin", admin, "DROP TABLE IF EXISTS public.t CASCADE")
        self.ex("admin", admin, "CREATE TABLE public.t (id %s PRIMARY KEY, k int NOT NULL DEFAULT 0, %s)" % (
            keyt, op.create))
        if self.use_role:
            allc = ", ".join(["id", "k"] + op.old)
            self.ex("admin", admin, "GRANT SELECT (%s), INSERT (%s), UPDATE (%s) ON public.t TO fuzz_app" % (
                allc, allc, allc))
            self.ex("admin", admin, "GRANT DELETE ON public.t TO fuzz_app")
        if self.rls:
            self.ex("admin", admin, "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY")
            self.ex("admin", admin, "CREATE POLICY fuzz_all ON public.t USING (true) WITH CHECK (true)")
        conns = {"old": self.app_conn("old"), "new": self.app_conn("new")}
        fz.count("setting", "role=%s" % ("fuzz_app (column grants)" if self.use_role else "owner"))
        fz.count("setting", "rls=%s" % self.rls)
        fz.count("setting", "key=%s" % self.keytype)
        try:
            for _ in range(r.randint(3, 12)):
                self.write("old", conns["old"])
            self.commit("old", conns["old"])
            self.check(conns, admin, "before begin")
            self.ex("admin", admin, op.begin % {"idx": self.idx})
            self.phase = "window"
            steps = r.randint(15, 45)
            backfilled = False
            for _ in range(steps):
                if time.time() > deadline:
                    break
                x = r.random()
                side = r.choice(["old", "new"])
                if x < 0.65:
                    self.write(side, conns[side])
                elif x < 0.85:
                    self.commit(side, conns[side])
                    self.check(conns, admin, "after %s commit" % side)
                    fz.passed += 1
                elif x < 0.9:
                    self.rollback(side, conns[side])
                else:
                    for s in ("old", "new"):
                        self.commit(s, conns[s])
                    self.backfill(admin, interrupt=r.random() < 0.6)
                    backfilled = r.random() < 0.5
                    if backfilled:
                        self.backfill(admin, interrupt=False)
                    self.check(conns, admin, "after backfill")
                    fz.passed += 1
            for s in ("old", "new"):
                self.commit(s, conns[s])
            self.check(conns, admin, "end of window")
            if r.random() < 0.75:
                self.backfill(admin, interrupt=False)
                self.check(conns, admin, "after complete backfill")
                self.ex("admin", admin, "SELECT zdm.finish(%s)" % self.mig())
                self.phase = "finished"
                fz.count("end", "finish")
            else:
                self.ex("admin", admin, "SELECT zdm.abort(%s)" % self.mig())
                self.phase = "aborted"
                fz.count("end", "abort")
            self.check(conns, admin, "after " + self.phase)
            # a few writes on the final shape, then a last check
            for _ in range(r.randint(0, 3)):
                side = "new" if self.phase == "finished" else "old"
                self.write(side, conns[side])
            for s in ("old", "new"):
                self.commit(s, conns[s])
            self.check(conns, admin, "after writes on the final shape")
            fz.passed += 1
        finally:
            if self.phase == "window":
                try:
                    admin.rollback() if not admin.autocommit else None
                    admin.cursor().execute("SELECT zdm.abort(%s)" % (
                        self.mig()))
                except Exception:
                    pass
            for c in conns.values():
                try:
                    c.close()
                except Exception:
                    pass
            try:
                admin.close()
            except Exception:
                pass

    def backfill(self, admin, interrupt):
        r = self.rng
        mig = self.mig()
        ds = r.choice(DATESTYLES)
        self.ex("admin", admin, "SET DateStyle = %s" % lit(ds))
        self.ex("admin", admin, "SET TimeZone = %s" % lit(r.choice(TIMEZONES)))
        if not interrupt:
            self.ex("admin", admin, "CALL zdm.backfill(%s, batch_size => %d)" % (mig, r.choice([1, 3, 5000])))
            self.converted |= set(self.model)
            self.fz.count("backfill", "complete")
            return
        how = r.choice(["statement_timeout", "pg_cancel_backend"])
        self.fz.count("backfill", "interrupted by " + how)
        sql = "CALL zdm.backfill(%s, batch_size => 1, pause => '40ms')" % mig
        t = None
        if how == "statement_timeout":
            self.ex("admin", admin, "SET statement_timeout = '%dms'" % r.choice([30, 90, 200]))
        else:
            pid = admin.get_backend_pid()
            delay = r.choice([0.03, 0.09, 0.2])

            def cancel():
                c = psycopg2.connect(dbname=self.fz.db)
                c.autocommit = True
                with c.cursor() as cur:
                    cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
                c.close()
            self.log.append("-- admin2 (after %ss)\nSELECT pg_cancel_backend(<admin pid>);" % delay)
            t = threading.Timer(delay, cancel)
            t.start()
        try:
            self.ex("admin", admin, sql)
            self.converted |= set(self.model)
        except psycopg2.extensions.QueryCanceledError:
            self.log.append("-- (canceled)")
        finally:
            if t:
                t.join()
            self.ex("admin", admin, "RESET statement_timeout")


class Fuzz:
    def __init__(self, seed, seconds, findings):
        self.seed, self.seconds, self.findings = seed, seconds, findings
        self.db = "zdm_fuzz_%d" % os.getpid()
        self.passed = self.failed = self.writes = self.checks = self.divergent = 0
        self.counts = {}
        self.next_key = 0
        self.failures = []

    def count(self, cat, what):
        self.counts.setdefault(cat, {}).setdefault(what, 0)
        self.counts[cat][what] += 1

    def setup(self):
        c = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s" % self.db)
            cur.execute("CREATE DATABASE %s" % self.db)
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'fuzz_app'")
            if not cur.fetchone():
                cur.execute("CREATE ROLE fuzz_app")
        c.close()
        c = psycopg2.connect(dbname=self.db)
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("CREATE EXTENSION zdm")
            cur.execute("GRANT USAGE ON SCHEMA public TO fuzz_app")
            # a schema that shadows names when it comes before pg_catalog
            cur.execute("""
                CREATE SCHEMA shadow;
                GRANT USAGE ON SCHEMA shadow TO fuzz_app;
                CREATE TABLE shadow.t (id int, k int, v text, w text, v_new text, surname text, last_name text);
                CREATE FUNCTION shadow.fuzz_zero(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 0';
                CREATE OPERATOR shadow.+ (LEFTARG = int, RIGHTARG = int, FUNCTION = shadow.fuzz_zero);
                CREATE OPERATOR shadow.* (LEFTARG = int, RIGHTARG = int, FUNCTION = shadow.fuzz_zero);
                CREATE FUNCTION shadow.int8(int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 0::bigint';
            """)
        c.close()

    def teardown(self):
        c = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"))
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)
        c.close()

    def run(self):
        rng = random.Random(self.seed)
        start = time.time()
        deadline = start + self.seconds
        self.setup()
        for name, ref in sorted(SKIPS.items()):
            print("fuzz: SKIP %s: %s" % (name, ref))
        idx = 0
        try:
            while time.time() < deadline - 3:
                idx += 1
                sc = Scenario(self, idx, random.Random(rng.random()))
                try:
                    sc.run(deadline)
                except Exception as e:  # noqa: BLE001 -- every error is a finding
                    self.failed += 1
                    msg = "%s: %s" % (type(e).__name__, str(e).strip())
                    self.failures.append((sc, msg))
                    print("fuzz: FAIL scenario %d (seed %s, op %s, key %s, role %s, rls %s, settings %s): %s" % (
                        idx, self.seed, sc.op.name, sc.keytype, sc.use_role, sc.rls, sc.settings, msg))
                    print("---- SQL log of scenario %d" % idx)
                    print("\n".join(sc.log[-80:]))
                    print("----")
                    if self.findings:
                        self.append_finding(sc, msg)
        finally:
            self.teardown()
        self.report(time.time() - start)
        return self.failed == 0

    def append_finding(self, sc, msg):
        with open(self.findings, "a") as f:
            f.write("\n## %s fuzz seed %s scenario %d (%s)\n\n%s\n\n```sql\n%s\n```\n" % (
                datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), self.seed, sc.idx, sc.op.name,
                msg, "\n".join(sc.log[-40:])))

    def report(self, secs):
        print("fuzz: seed %s, %.0f s, %d writes, %d checks, %d divergent rows" % (
            self.seed, secs, self.writes, self.checks, self.divergent))
        for cat in sorted(self.counts):
            print("fuzz: %s: %s" % (cat, ", ".join("%s %d" % kv for kv in sorted(self.counts[cat].items()))))
        # Build output (build/reports/fuzz.md, or $ZDM_REPORTS); ZDM_RECORD=1
        # also writes the committed record, records/fuzz.md.
        repo = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
        reports = os.environ.get("ZDM_REPORTS") or os.path.join(repo, "build", "reports")
        os.makedirs(reports, exist_ok=True)
        out = os.path.join(reports, "fuzz.md")
        with open(out, "w") as f:
            f.write("# Fuzz run (generated by test/fuzz/fuzz.py)\n\n")
            f.write("Seed %s, %.0f s: %d scenarios/commits checked, %d failed; %d writes, %d checks, "
                    "%d divergent rows.\n\n" % (self.seed, secs, self.passed, self.failed, self.writes,
                                                self.checks, self.divergent))
            for cat in sorted(self.counts):
                f.write("- %s: %s\n" % (cat, ", ".join("%s %d" % kv for kv in sorted(self.counts[cat].items()))))
            for sc, msg in self.failures:
                f.write("\n- FAIL scenario %d (%s): %s\n" % (sc.idx, sc.op.name, msg))
        print("fuzz: report written to %s" % out)
        if os.environ.get("ZDM_RECORD") == "1":
            shutil.copyfile(out, os.path.join(repo, "records", "fuzz.md"))
            print("fuzz: recorded in records/fuzz.md")
        print("fuzz: %d passed, %d failed" % (self.passed, self.failed))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", default="1", help="an integer, or 'random'")
    p.add_argument("--seconds", type=float, default=150)
    p.add_argument("--minutes", type=float)
    p.add_argument("--findings", help="append each failure to this file")
    p.add_argument("--no-skips", action="store_true", help="run the SKIPS cases too (to see which fixes landed)")
    a = p.parse_args()
    if a.no_skips:
        SKIPS.clear()
    seed = random.randrange(1 << 30) if a.seed == "random" else int(a.seed)
    secs = a.minutes * 60 if a.minutes else a.seconds
    print("fuzz: seed %s, bound %.0f s" % (seed, secs))
    ok = Fuzz(seed, secs, a.findings).run()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
