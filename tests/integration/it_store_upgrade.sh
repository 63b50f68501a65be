#!/usr/bin/env bash
# it_store_upgrade.sh - stores of the previous schemas upgrade in place on their first
# open: the same events, the same search results (also for the fields that block
# summaries serve, over blocks written before summaries existed), duplicates still
# recognised, and events ingested afterwards found through their summaries.
# - schema 2 (store-v2.sql): made by the release before schema 3, upgraded by ingest;
# - schema 3 (store-v3.sql): made by the release before schema 4 (the covering partial
#   indexes), upgraded by a read-only command (search), which makes the upgrade first
#   when it may write the file;
# - schema 4 (store-v4.sql): made by the release before schema 5 (the index of retries),
#   upgraded by `build`;
# - schema 5 (store-v5.sql): made by the release before schema 6 (event ids and resource
#   names keyed by hour), upgraded by a search by event id;
# - schema 6 (store-v6.sql): made by the release before schema 7 (resources summarised
#   per block and fingerprinted per row instead of a row each, the event source found
#   through its names instead of an index), upgraded by a search by resource name; the
#   summaries and fingerprints the upgrade builds from the old rows are those an ingest
#   of the same archive writes;
# - schema 7 (store-v7.sql): made by the release before schema 8 (each block's time
#   range, names and number of events in its summary instead of the (name, time) index),
#   upgraded by a search by event name; the summaries the upgrade builds are
#   those an ingest writes, and searches read the blocks in time order.
# - schema 8 (store-v8.sql): made by the release before schema 9 (rows without the
#   hashes of user, principal, access key and source IP),
#   upgraded by a search by user name; the rows keep every other value, and the searches
#   on those fields find what the files hold.
# - schema 9 (store-v9.sql): made by the release before schema 10 (event ids keyed by
#   their hour and a hash), upgraded by a search by event id; the keys the upgrade
#   computes in SQL are those an ingest computes, duplicates are still found, and every
#   event is found by its id.
# - schema 10 (store-v10.sql): made by the release before schema 11 (each block's rows
#   in time order and its span class in its summary instead of the time index),
#   upgraded by a page of a search without a filter; the directories the upgrade builds
#   are those an ingest writes, and pages, newest or oldest first, from each page's
#   token, give every event once and in order.
# - schema 11 (store-v11.sql): made by the release before schema 12 (compression
#   dictionaries), upgraded by an ingest of a larger archive, which trains the store's
#   first dictionary: the old block stays as it was, the new ones use it, and store and
#   files agree, the old events and the new, also when the same archive comes again.
# - schema 12 (store-v12.sql): made by the release before schema 13 (a packed block's
#   rows as one directory, `events` a virtual table over them and `evrows`), upgraded by
#   `builds`: the old rows stay rows, the new ones go to directories but those an index
#   finds, and every row is read once, alike by id and by range.
# - schema 13 (store-v13.sql): made by the release before schema 14 (event ids' keys in
#   chunks, a row an hour's run of keys), upgraded by a search by event id: every key
#   is in a chunk of its hour (those a fresh ingest writes), every event is found by its
#   id, duplicates are still found, and new events go to the chunks.
# - schema 14 (store-v14.sql, with projects.json): made by the release before schema 15
#   (each project's service role in `roles`, kept by ingest), upgraded by `builds`: the
#   table holds what the project records said last (a failed UpdateProject says
#   nothing), as a fresh ingest writes it, and a build known only from its role
#   session's calls gets its project from it.
# - schema 15 (store-v15.sql): made by the release before schema 16 (an hour's event ids
#   in runs, `builds` in written order), upgraded by an ingest of a larger archive of the
#   same day: its ids go to runs of their own, every event is found by its id, and
#   builds and duplicates are as a fresh ingest has them.
# Each is `bt-gen --seed 11 --events 120 --days 1` ingested, its sources rows deleted,
# `sqlite3 .dump`: loaded into a database here, so no binary file is kept in the tree.
. "$(dirname "$0")/lib.sh"
need jq
need sqlite3
: "${BT:?}" "${BT_BIN_DIR:?}"
GEN="$BT_BIN_DIR/bt-gen"
SQL="$BT_BIN_DIR/bt-sql" # SQL with the table `events` (the sqlite3 shell lacks it since schema 13)
V=16 # the schema this buildtrail writes
# the entries of `eids`' chunks (schema 14) and of `eidr`'s (schema 16, whose keys hold
# a run's 3 bits above the hash) as rows x(k, e, i): entry i of the chunk at k (the
# hour's bits above 40, as in `eids`)
EIDS='WITH RECURSIVE c(k, e) AS (SELECT k, e FROM eids UNION ALL SELECT k >> 43 << 40
  | (k & 1099511627775), e FROM eidr), x(k, e, i) AS (SELECT k, e, 0 FROM c UNION ALL
  SELECT k, e, i + 1 FROM x WHERE (i + 1) * 11 < length(e))'

[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }
"$GEN" --out "$T/a" --seed 11 --events 120 --days 1 >/dev/null 2>&1 || bad "bt-gen a"
"$GEN" --out "$T/b" --seed 12 --events 300 --days 1 >/dev/null 2>&1 || bad "bt-gen b"
S="$T/old.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v2.sql" || bad "load the fixture"
eq "the fixture is schema 2" 2 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')

# the first writable open upgrades; the archive it came from is all duplicates
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" > "$T/s1.json" 2>/dev/null
eq "re-ingest: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "re-ingest: nothing new" 0 "$(jq .new "$T/s1.json")"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "every old block has a summary row" "$("$SQL" "$S" 'SELECT count(DISTINCT blk) FROM events')" \
  "$("$SQL" "$S" 'SELECT count(*) FROM bsum')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity" ok "$(cat "$T/ic")"

# store and files agree, unfiltered and on each summarised field
same() { # same NAME ARCHIVES... -- ARGS...
  local name=$1 dirs=() a b
  shift
  while [ "$1" != "--" ]; do dirs+=(--from "$1"); shift; done
  shift
  a=$("$BT" search --store "$S" "$@" -o ndjson --max-items 1000000 2>/dev/null | sort | md5sum)
  b=$("$BT" search "${dirs[@]}" "$@" -o ndjson --max-items 1000000 2>/dev/null | sort | md5sum)
  eq "$name: store = files ($*)" "$b" "$a"
}
values() { # values ARCHIVE JQ-PATH: a few distinct values of a field
  "$BT" search --from "$1" -o ndjson --max-items 1000000 2>/dev/null | jq -r "$2 // empty" |
    sort | uniq -c | sort -k1,1n -k2 | awk '{print $2}' | sed -n '1p;$p'
}
sessions_agree() { # sessions_agree NAME: each build session's row = its calls counted again
  local q='SELECT actor, count(*), count(err), min(t), max(t),
    (SELECT account FROM events e2 WHERE e2.actor = e.actor ORDER BY t LIMIT 1),
    (SELECT region FROM events e2 WHERE e2.actor = e.actor ORDER BY t LIMIT 1)
    FROM events e WHERE actor IS NOT NULL GROUP BY actor ORDER BY actor'
  ne "$1: the store has build sessions" 0 "$("$SQL" "$S" 'SELECT count(*) FROM sessions')"
  eq "$1: sessions = the calls counted again" "$("$SQL" "$S" "$q" | md5sum)" \
    "$("$SQL" "$S" 'SELECT actor, calls, errs, t0, t1, account, region FROM sessions ORDER BY actor' | md5sum)"
}
check() { # check NAME ARCHIVES...
  local name=$1 v
  shift
  sessions_agree "$name"
  same "$name all" "$@" --
  for v in $(values "$1" '.userIdentity.arn'); do same "$name" "$@" -- --principal "$v"; done
  for v in $(values "$1" '.sourceIPAddress'); do same "$name" "$@" -- --source-ip "$v"; done
  for v in $(values "$1" '.userIdentity.accessKeyId'); do same "$name" "$@" -- --access-key-id "$v"; done
  for v in $(values "$1" '.userIdentity.sessionContext.sessionIssuer.userName'); do
    same "$name" "$@" -- --username "$v"
  done
  same "$name" "$@" -- --username no-such-user-anywhere
  for v in $(values "$1" '(.userIdentity.arn // "") | split("/") | last'); do
    same "$name" "$@" -- --username "$v"
  done
  same "$name" "$@" -- --username root
  for v in $(values "$1" '.eventID'); do same "$name" "$@" -- --event-id "$v"; done
  for v in $(values "$1" '.resources[0].ARN'); do same "$name" "$@" -- --resource-name "$v"; done
  for v in $(values "$1" '.resources[0].type'); do same "$name" "$@" -- --resource-type "$v"; done
  for v in $(values "$1" '.eventSource'); do same "$name" "$@" -- --event-source "$v"; done
  same "$name" "$@" -- --event-source codebuild.amazonaws.com --event-source sts.amazonaws.com
  same "$name" "$@" -- --event-source no-such.amazonaws.com
  same "$name" "$@" -- --resource-name arn:aws:s3:::no-such-bucket-anywhere
  same "$name" "$@" -- --event-id 00000000-0000-4000-8000-000000000000
  hours_agree "$name"
}
hours_agree() { # hours_agree NAME: every event id key leads with its event's hour; the
  # resources live in the block summaries, not in rows
  eq "$1: one event id row per event" "$("$SQL" "$S" 'SELECT count(*) FROM events')" \
    "$("$SQL" "$S" "$EIDS SELECT (SELECT count(*) FROM x JOIN events e ON e.id = bt_eid_ev(x.e, x.i)
      AND x.k >> 40 = e.t / 3600000)
      + (SELECT count(*) FROM eidx x JOIN events e ON e.id = x.ev AND x.hb = e.t / 3600000)")"
  eq "$1: no resource rows" 0 "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'resources'")"
  eq "$1: every block has a summary of its resources" 0 \
    "$("$SQL" "$S" 'SELECT count(*) FROM bsum WHERE rbloom IS NULL OR length(rbloom) < 64')"
  ne "$1: some block names resources" 0 \
    "$("$SQL" "$S" "SELECT count(*) FROM bsum WHERE rbloom != zeroblob(length(rbloom))")"
  eq "$1: srcnames = the (source, name) pairs of the events" \
    "$("$SQL" "$S" 'SELECT DISTINCT src, coalesce(name, 0) FROM events WHERE src IS NOT NULL ORDER BY 1, 2' | md5sum)" \
    "$("$SQL" "$S" 'SELECT src, name FROM srcnames ORDER BY 1, 2' | md5sum)"
  eq "$1: no index on the source" 0 "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'ev_src'")"
}
check "upgraded" "$T/a/AWSLogs"
old_blocks=$("$SQL" "$S" 'SELECT count(*) FROM bsum')

# new events on top: found through their summaries, old ones still through the ranges
"$BT" ingest -q --store "$S" "$T/b/AWSLogs" >/dev/null 2>&1
eq "second ingest: exit 0" 0 $?
check "after a new ingest" "$T/a/AWSLogs" "$T/b/AWSLogs"
eq "old blocks keep their summary without a filter" "$old_blocks" \
  "$("$SQL" "$S" 'SELECT count(*) FROM bsum WHERE bloom IS NULL')"
ne "new blocks have a filter" 0 "$("$SQL" "$S" 'SELECT count(*) FROM bsum WHERE bloom IS NOT NULL')"

# schema 3, as the release before this one wrote it: a reader upgrades it
S="$T/v3.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v3.sql" || bad "load the v3 fixture"
eq "the fixture is schema 3" 3 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
errs_old=$("$SQL" "$S" 'SELECT count(*) FROM events WHERE err IS NOT NULL')
"$BT" search --store "$S" -o ndjson --max-items 1000000 > "$T/v3.out" 2> "$T/v3.err"
eq "search of a schema 3 store: exit 0" 0 $?
eq "search upgraded it to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "no progress shown for a small store (under a second)" "" "$(cat "$T/v3.err")"
eq "search found every event" "$n_old" "$(wc -l < "$T/v3.out")"
for ix in ev_build ev_project ev_err; do
  "$SQL" "$S" "SELECT sql FROM sqlite_master WHERE name = '$ix'" | grep -q 'kind, blk, off, len)'
  eq "$ix carries kind, blk, off, len" 0 $?
done
# (schema 13: the build sessions' index is its key and time)
eq "ev_actor is (actor, t)" "CREATE INDEX ev_actor ON evrows(actor, t) WHERE actor IS NOT NULL" \
  "$("$SQL" "$S" "SELECT sql FROM sqlite_master WHERE name = 'ev_actor'")"
eq "the error index holds every error" "$errs_old" \
  "$("$SQL" "$S" 'SELECT count(*) FROM evrows INDEXED BY ev_err WHERE err IS NOT NULL')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade" ok "$(cat "$T/ic")"
same "v3 errors" "$T/a/AWSLogs" -- --errors
same "v3 project" "$T/a/AWSLogs" -- --project "$("$SQL" "$S" 'SELECT s FROM strs WHERE id = (SELECT project FROM events WHERE project IS NOT NULL LIMIT 1)')"
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" > "$T/s3.json" 2>/dev/null
eq "v3 re-ingest: nothing new" 0 "$(jq .new "$T/s3.json")"
check "upgraded from 3" "$T/a/AWSLogs"

# schema 4, as the release before this one wrote it: `build` upgrades it
S="$T/v4.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v4.sql" || bad "load the v4 fixture"
eq "the fixture is schema 4" 4 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
id=$("$SQL" "$S" 'SELECT build_id FROM builds WHERE build_id IS NOT NULL ORDER BY start_ms LIMIT 1')
ne "the v4 store holds a build" "" "$id"
"$BT" build --store "$S" "$id" --output json > "$T/v4b.json" 2> "$T/v4b.err"
eq "build of a schema 4 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "the build is shown" "$id" "$(jq -r .Build.BuildId "$T/v4b.json")"
"$SQL" "$S" "EXPLAIN QUERY PLAN SELECT uuid FROM builds WHERE retry_of = 'x'" > "$T/plan"
grep -q 'INDEX builds_retry' "$T/plan"
eq "a build's retry is found through builds_retry" 0 $?
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 4" ok "$(cat "$T/ic")"
check "upgraded from 4" "$T/a/AWSLogs"

# schema 5, as the release before this one wrote it: a search by event id upgrades it
S="$T/v5.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v5.sql" || bad "load the v5 fixture"
eq "the fixture is schema 5" 5 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
n_res=$("$SQL" "$S" 'SELECT count(*) FROM resources')
eid=$("$BT" search --from "$T/a/AWSLogs" -o ndjson --max-items 1 2>/dev/null | jq -r .eventID)
ne "an event id of the archive" "" "$eid"
"$BT" search --store "$S" --event-id "$eid" -o ndjson > "$T/v5.out" 2> "$T/v5.err"
eq "search by event id of a schema 5 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "the event is found by its id" "$eid" "$(jq -r .eventID "$T/v5.out")"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
ne "the v5 store had resource rows" 0 "$n_res"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 5" ok "$(cat "$T/ic")"
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" > "$T/s5.json" 2>/dev/null
eq "v5 re-ingest: nothing new (duplicates found by hour and id)" 0 "$(jq .new "$T/s5.json")"
check "upgraded from 5" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/b/AWSLogs" > "$T/s5b.json" 2>/dev/null
ne "v5 then a new archive: new events" 0 "$(jq .new "$T/s5b.json")"
check "upgraded from 5, then new events" "$T/a/AWSLogs" "$T/b/AWSLogs"

# schema 6, as the release before this one wrote it: a search by resource name upgrades
# it, and the summaries built from its resource rows are those an ingest writes
S="$T/v6.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v6.sql" || bad "load the v6 fixture"
eq "the fixture is schema 6" 6 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
ne "the v6 store has resource rows" 0 "$("$SQL" "$S" 'SELECT count(*) FROM resources')"
arn=$(values "$T/a/AWSLogs" '.resources[0].ARN' | head -1)
ne "a resource of the archive" "" "$arn"
"$BT" search --store "$S" --resource-name "$arn" -o ndjson --max-items 1000000 > "$T/v6.out" 2> "$T/v6.err"
eq "search by resource name of a schema 6 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "the events naming it are found" \
  "$("$BT" search --from "$T/a/AWSLogs" --resource-name "$arn" -o ndjson --max-items 1000000 2>/dev/null | sort | md5sum)" \
  "$(sort "$T/v6.out" | md5sum)"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 6" ok "$(cat "$T/ic")"
# one parser thread: one batch, so the same one block as the fixture
"$BT" ingest -q --threads 1 --store "$T/fresh.db" "$T/a/AWSLogs" >/dev/null 2>&1
eq "a fresh ingest of the same archive: exit 0" 0 $?
eq "the upgrade's summaries of resources = those ingest writes" \
  "$("$SQL" "$T/fresh.db" 'SELECT hex(rbloom) FROM bsum ORDER BY 1' | md5sum)" \
  "$("$SQL" "$S" 'SELECT hex(rbloom) FROM bsum ORDER BY 1' | md5sum)"
# (by event id: a fresh ingest orders a block's rows by name since schema 8)
eq "the upgrade's fingerprints of resources per event = those ingest writes" \
  "$("$SQL" "$T/fresh.db" "$EIDS SELECT (x.k >> 40 << 40) | bt_eid_hash(x.e, x.i), e.rh FROM x
    JOIN events e ON e.id = bt_eid_ev(x.e, x.i) ORDER BY 1" | md5sum)" \
  "$("$SQL" "$S" "$EIDS SELECT (x.k >> 40 << 40) | bt_eid_hash(x.e, x.i), e.rh FROM x
    JOIN events e ON e.id = bt_eid_ev(x.e, x.i) ORDER BY 1" | md5sum)"
ne "some events have a fingerprint" 0 "$("$SQL" "$S" 'SELECT count(rh) FROM events')"
check "upgraded from 6" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/b/AWSLogs" > "$T/s6b.json" 2>/dev/null
ne "v6 then a new archive: new events" 0 "$(jq .new "$T/s6b.json")"
check "upgraded from 6, then new events" "$T/a/AWSLogs" "$T/b/AWSLogs"

# schema 7, as the release before this one wrote it: a search by event name upgrades it,
# and the block summaries the upgrade builds from the rows are those an ingest writes
S="$T/v7.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v7.sql" || bad "load the v7 fixture"
eq "the fixture is schema 7" 7 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
name=$("$SQL" "$S" 'SELECT s FROM strs WHERE id = (SELECT name FROM events GROUP BY name ORDER BY count(*) DESC LIMIT 1)')
ne "a name of the v7 store" "" "$name"
"$BT" search --store "$S" --event-name "$name" -o ndjson --max-items 1000000 > "$T/v7.out" 2> "$T/v7.err"
eq "search by event name of a schema 7 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "the events of the name are found" \
  "$("$BT" search --from "$T/a/AWSLogs" --event-name "$name" -o ndjson --max-items 1000000 2>/dev/null | sort | md5sum)" \
  "$(sort "$T/v7.out" | md5sum)"
eq "newest first" "$(jq -r .eventTime "$T/v7.out" | sort -r | md5sum)" "$(jq -r .eventTime "$T/v7.out" | md5sum)"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "no (name, time) index" 0 "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'ev_name'")"
eq "no time index (schema 11: the blocks' time directories)" 0 "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'ev_t'")"
eq "every block's summary has its time range, names and count" 0 \
  "$("$SQL" "$S" 'SELECT count(*) FROM bsum WHERE t0 IS NULL OR t1 IS NULL OR nset IS NULL OR n IS NULL')"
eq "each block's count and time range = its rows'" \
  "$("$SQL" "$S" 'SELECT blk, count(*), min(t), max(t) FROM events GROUP BY blk ORDER BY blk' | md5sum)" \
  "$("$SQL" "$S" 'SELECT blk, n, t0, t1 FROM bsum ORDER BY blk' | md5sum)"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 7" ok "$(cat "$T/ic")"
rm -f "$T/fresh.db" "$T/fresh.db-wal" "$T/fresh.db-shm"
"$BT" ingest -q --threads 1 --store "$T/fresh.db" "$T/a/AWSLogs" >/dev/null 2>&1
eq "a fresh ingest of the same archive: exit 0" 0 $?
eq "the upgrade's block summaries = those ingest writes" \
  "$("$SQL" "$T/fresh.db" 'SELECT t0, t1, hex(nset), n FROM bsum ORDER BY 1' | md5sum)" \
  "$("$SQL" "$S" 'SELECT t0, t1, hex(nset), n FROM bsum ORDER BY 1' | md5sum)"
check "upgraded from 7" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/b/AWSLogs" > "$T/s7b.json" 2>/dev/null
ne "v7 then a new archive: new events" 0 "$(jq .new "$T/s7b.json")"
check "upgraded from 7, then new events" "$T/a/AWSLogs" "$T/b/AWSLogs"
eq "after new events too, each block's count and time range = its rows'" \
  "$("$SQL" "$S" 'SELECT blk, count(*), min(t), max(t) FROM events GROUP BY blk ORDER BY blk' | md5sum)" \
  "$("$SQL" "$S" 'SELECT blk, n, t0, t1 FROM bsum ORDER BY blk' | md5sum)"

# schema 8, as the release before this one wrote it: a search by user name upgrades it;
# the rows lose the hashed fields and keep the rest
S="$T/v8.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v8.sql" || bad "load the v8 fixture"
eq "the fixture is schema 8" 8 "$("$SQL" "$S" 'PRAGMA user_version')"
kept='SELECT id, t, kind, name, src, region, account, err, ro, project, build, actor, blk, off, len, rh FROM events ORDER BY id'
rows_old=$("$SQL" "$S" "$kept" | md5sum)
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
user=$("$BT" search --from "$T/a/AWSLogs" -o ndjson --max-items 1000000 2>/dev/null |
  jq -r '(.userIdentity.arn // "") | split("/") | last // empty' | sort | uniq -c | sort -k1,1nr | awk 'NR == 1 {print $2}')
ne "a user of the v8 store" "" "$user"
"$BT" search --store "$S" --username "$user" -o ndjson --max-items 1000000 > "$T/v8.out" 2> "$T/v8.err"
eq "search by user name of a schema 8 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
ne "the user's events are found" 0 "$(wc -l < "$T/v8.out")"
eq "the user's events = the files'" \
  "$("$BT" search --from "$T/a/AWSLogs" --username "$user" -o ndjson --max-items 1000000 2>/dev/null | sort | md5sum)" \
  "$(sort "$T/v8.out" | md5sum)"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "every other value of the rows kept" "$rows_old" "$("$SQL" "$S" "$kept" | md5sum)"
eq "the rows hold no hashed fields" "" \
  "$("$SQL" "$S" "SELECT name FROM pragma_table_info('events') WHERE name IN ('user', 'principal', 'akid', 'ip')")"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 8" ok "$(cat "$T/ic")"
check "upgraded from 8" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/b/AWSLogs" > "$T/s8b.json" 2>/dev/null
ne "v8 then a new archive: new events" 0 "$(jq .new "$T/s8b.json")"
check "upgraded from 8, then new events" "$T/a/AWSLogs" "$T/b/AWSLogs"

# schema 9, as the release before this one wrote it: a search by event id upgrades it;
# the event ids' keys are those an ingest writes
S="$T/v9.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v9.sql" || bad "load the v9 fixture"
eq "the fixture is schema 9" 9 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
eid=$("$BT" search --from "$T/a/AWSLogs" -o ndjson --max-items 1 2>/dev/null | jq -r .eventID)
ne "an event id of the archive" "" "$eid"
"$BT" search --store "$S" --event-id "$eid" -o ndjson > "$T/v9.out" 2> "$T/v9.err"
eq "search by event id of a schema 9 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "the event is found by its id" "$eid" "$(jq -r .eventID "$T/v9.out")"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "eids is (k, e)" "k e" "$("$SQL" "$S" "SELECT group_concat(name, ' ') FROM pragma_table_info('eids')")"
eq "no id shares its key" 0 "$("$SQL" "$S" 'SELECT count(*) FROM eidx')"
eq "the upgrade's keys = those ingest writes" \
  "$("$SQL" "$T/fresh.db" "$EIDS SELECT (x.k >> 40 << 40) | bt_eid_hash(x.e, x.i) FROM x ORDER BY 1" | md5sum)" \
  "$("$SQL" "$S" "$EIDS SELECT (x.k >> 40 << 40) | bt_eid_hash(x.e, x.i) FROM x ORDER BY 1" | md5sum)"
ne "the keys are there" 0 "$("$SQL" "$S" 'SELECT count(*) FROM eids')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 9" ok "$(cat "$T/ic")"
n=0
for id in $("$BT" search --from "$T/a/AWSLogs" -o ndjson --max-items 1000000 2>/dev/null | jq -r .eventID | sort -u); do
  got=$("$BT" search --store "$S" --event-id "$id" -o ndjson 2>/dev/null | jq -r .eventID)
  [ "$got" = "$id" ] && n=$((n + 1))
done
eq "every event is found by its id" "$n_old" "$n"
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" > "$T/s9.json" 2>/dev/null
eq "v9 re-ingest: nothing new (duplicates found by key)" 0 "$(jq .new "$T/s9.json")"
check "upgraded from 9" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/b/AWSLogs" > "$T/s9b.json" 2>/dev/null
ne "v9 then a new archive: new events" 0 "$(jq .new "$T/s9b.json")"
check "upgraded from 9, then new events" "$T/a/AWSLogs" "$T/b/AWSLogs"

# schema 10, as the release before this one wrote it: a page without a filter upgrades it
S="$T/v10.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v10.sql" || bad "load the v10 fixture"
eq "the fixture is schema 10" 10 "$("$SQL" "$S" 'PRAGMA user_version')"
n_old=$("$SQL" "$S" 'SELECT count(*) FROM events')
"$BT" search --store "$S" --max-items 5 -o ndjson > "$T/v10.out" 2> "$T/v10.err"
eq "a page of a schema 10 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "a page of 5" 5 "$(wc -l < "$T/v10.out")"
eq "events kept" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "no time index" 0 "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'ev_t'")"
eq "every block has its rows in time order and its span class" 0 \
  "$("$SQL" "$S" 'SELECT count(*) FROM bsum b LEFT JOIN btime t ON t.blk = b.blk WHERE t.tdir IS NULL OR b.lv IS NULL')"
rm -f "$T/fresh.db" "$T/fresh.db-wal" "$T/fresh.db-shm"
"$BT" ingest -q --threads 1 --store "$T/fresh.db" "$T/a/AWSLogs" >/dev/null 2>&1
eq "the upgrade's directories = those ingest writes" \
  "$("$SQL" "$T/fresh.db" 'SELECT b.lo, b.hi, b.lv, hex(t.tdir) FROM bsum b JOIN btime t USING (blk) ORDER BY 1' | md5sum)" \
  "$("$SQL" "$S" 'SELECT b.lo, b.hi, b.lv, hex(t.tdir) FROM bsum b JOIN btime t USING (blk) ORDER BY 1' | md5sum)"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 10" ok "$(cat "$T/ic")"
pages() { # pages ARGS...: every page of 7 from each page's token, concatenated
  local tok="" n=0
  : > "$T/pages"
  while [ $n -lt 100 ]; do
    "$BT" search --store "$S" "$@" --max-items 7 ${tok:+--starting-token "$tok"} -o ndjson \
      >> "$T/pages" 2> "$T/pages.err" || bad "a page: $(cat "$T/pages.err")"
    tok=$(sed -n 's/.*--starting-token \([^ ]*\).*/\1/p' "$T/pages.err")
    [ -n "$tok" ] || break
    n=$((n + 1))
  done
  jq -r '.eventID' "$T/pages"
}
for order in "" --reverse; do
  whole=$("$BT" search --store "$S" $order --max-items 1000000 -o ndjson 2>/dev/null | jq -r .eventID)
  eq "every event in one listing ${order:-newest first}" "$n_old" "$(echo "$whole" | sort -u | wc -l)"
  eq "pages of 7 = the listing ${order:-newest first}" "$(echo "$whole" | md5sum)" "$(pages $order | md5sum)"
  times=$("$BT" search --store "$S" $order --max-items 1000000 -o ndjson 2>/dev/null | jq -r .eventTime)
  if [ -n "$order" ]; then want=$(echo "$times" | sort); else want=$(echo "$times" | sort -r); fi
  eq "in time order ${order:-newest first}" "$(echo "$want" | md5sum)" "$(echo "$times" | md5sum)"
done
check "upgraded from 10" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/b/AWSLogs" > "$T/s10b.json" 2>/dev/null
ne "v10 then a new archive: new events" 0 "$(jq .new "$T/s10b.json")"
check "upgraded from 10, then new events" "$T/a/AWSLogs" "$T/b/AWSLogs"

# schema 11, as the release before this one wrote it: an ingest of some 25 MB of records
# upgrades it and trains its first dictionary (once it holds 8 blocks of 512 KiB; the
# batches the parser threads packed meanwhile go without)
S="$T/v11.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v11.sql" || bad "load the v11 fixture"
eq "the fixture is schema 11" 11 "$("$SQL" "$S" 'PRAGMA user_version')"
"$GEN" --out "$T/c" --seed 13 --events 20000 --days 1 >/dev/null 2>&1 || bad "bt-gen c"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" > "$T/s11.json" 2>/dev/null
eq "v11 then a larger archive: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
ne "v11 then a larger archive: new events" 0 "$(jq .new "$T/s11.json")"
eq "one dictionary, trained once the store held 8 blocks" "1|32768|1" \
  "$("$SQL" "$S" 'SELECT count(*), min(id), min(blk) BETWEEN 8 AND 16 FROM dicts')"
eq "the fixture's block is as it was" 1 "$("$SQL" "$S" 'SELECT codec FROM blocks WHERE id = 1')"
ne "blocks compressed with it" 0 "$("$SQL" "$S" 'SELECT count(*) FROM blocks WHERE codec = 32768')"
# (batches packed before it was handed out may still come after one packed with it:
# the parser threads' queue and their batches in hand, some 20 blocks)
eq "the newest 10 blocks use it" 0 \
  "$("$SQL" "$S" 'SELECT count(*) FROM (SELECT codec FROM blocks ORDER BY id DESC LIMIT 10) WHERE codec = 1')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 11" ok "$(cat "$T/ic")"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" "$T/a/AWSLogs" > "$T/s11b.json" 2>/dev/null
eq "v11: both archives again, nothing new" 0 "$(jq .new "$T/s11b.json")"
check "upgraded from 11, then a larger archive" "$T/a/AWSLogs" "$T/c/AWSLogs"

# schema 12, as the release before this one wrote it: `builds` upgrades it; its rows stay
# rows (evrows), an ingest after it writes each block's rows as a directory (bdir) but
# those an index finds, and `events` reads both, each row once
S="$T/v12.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v12.sql" || bad "load the v12 fixture"
eq "the fixture is schema 12" 12 "$(sqlite3 "$S" 'PRAGMA user_version')"
n_old=$(sqlite3 "$S" 'SELECT count(*) FROM events')
max_old=$(sqlite3 "$S" 'SELECT max(id) FROM events')
"$BT" builds --store "$S" -o json > "$T/b12.json" 2>/dev/null
eq "builds upgraded it: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "v12: the old rows stay rows" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM evrows')"
eq "v12: the same events" "$n_old" "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "v12: no directory yet" 0 "$("$SQL" "$S" 'SELECT count(*) FROM bdir')"
ne "v12: builds found" 0 "$(jq '.Builds | length' "$T/b12.json")"
check "upgraded from 12" "$T/a/AWSLogs"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" > "$T/s12.json" 2>/dev/null
eq "v12 then a larger archive: exit 0" 0 $?
ne "v12 then a larger archive: new events" 0 "$(jq .new "$T/s12.json")"
ne "new blocks have directories" 0 "$("$SQL" "$S" 'SELECT count(*) FROM bdir')"
eq "new rows in evrows are those an index finds" 0 "$("$SQL" "$S" "SELECT count(*) FROM evrows
  WHERE id > $max_old AND err IS NULL AND project IS NULL AND build IS NULL AND actor IS NULL")"
ne "some new rows are in evrows (build sessions)" 0 "$("$SQL" "$S" "SELECT count(*) FROM evrows WHERE id > $max_old")"
eq "every row once" "$("$SQL" "$S" 'SELECT count(*) FROM events')" \
  "$("$SQL" "$S" 'SELECT count(DISTINCT id) FROM events')"
eq "the rows are those the summaries count" "$("$SQL" "$S" 'SELECT sum(n) FROM bsum')" \
  "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "the rows are the events stored" "$(( n_old + $(jq .new "$T/s12.json") ))" \
  "$("$SQL" "$S" 'SELECT count(*) FROM events')"
eq "rows by id = rows by range" "$("$SQL" "$S" 'SELECT group_concat(id || ":" || t || ":" || coalesce(name, "") || ":" || blk || ":" || off || ":" || len || ":" || coalesce(rh, ""), ",") FROM events' | md5sum)" \
  "$("$SQL" "$S" 'SELECT group_concat(x, ",") FROM (SELECT (SELECT id || ":" || t || ":" || coalesce(name, "") || ":" || blk || ":" || off || ":" || len || ":" || coalesce(rh, "") FROM events e WHERE e.id = i.id) AS x FROM (SELECT id FROM events ORDER BY id) i)' | md5sum)"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 12" ok "$(cat "$T/ic")"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" "$T/a/AWSLogs" > "$T/s12b.json" 2>/dev/null
eq "v12: both archives again, nothing new" 0 "$(jq .new "$T/s12b.json")"
check "upgraded from 12, then a larger archive" "$T/a/AWSLogs" "$T/c/AWSLogs"

# schema 13, as the release before this one wrote it: a search by event id upgrades it;
# its keys, a row each, become chunks of an hour's keys, those a fresh ingest writes
S="$T/v13.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v13.sql" || bad "load the v13 fixture"
eq "the fixture is schema 13" 13 "$(sqlite3 "$S" 'PRAGMA user_version')"
n_old=$(sqlite3 "$S" 'SELECT count(*) FROM eids')
ne "the fixture has keys" 0 "$n_old"
eid=$("$BT" search --from "$T/a/AWSLogs" -o ndjson --max-items 1 2>/dev/null | jq -r .eventID)
"$BT" search --store "$S" --event-id "$eid" -o ndjson > "$T/v13.out" 2> "$T/v13.err"
eq "search by event id of a schema 13 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "v13: the event is found by its id" "$eid" "$(jq -r .eventID "$T/v13.out")"
eq "v13: eids is (k, e)" "k e" "$("$SQL" "$S" "SELECT group_concat(name, ' ') FROM pragma_table_info('eids')")"
eq "v13: the old table is gone" 0 "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'eids13'")"
eq "v13: every key is in a chunk" "$n_old" "$("$SQL" "$S" 'SELECT sum(length(e)) / 11 FROM eids')"
eq "v13: the chunks = those a fresh ingest writes" \
  "$("$SQL" "$T/fresh.db" "$EIDS SELECT x.k, (x.k >> 40 << 40) | bt_eid_hash(x.e, x.i) FROM x ORDER BY 1, 2" | md5sum)" \
  "$("$SQL" "$S" "$EIDS SELECT x.k, (x.k >> 40 << 40) | bt_eid_hash(x.e, x.i) FROM x ORDER BY 1, 2" | md5sum)"
eq "v13: each hour's first chunk starts at its hour" 0 \
  "$("$SQL" "$S" 'SELECT count(*) FROM eids a WHERE a.k & 1099511627775 != 0 AND NOT EXISTS
    (SELECT 1 FROM eids b WHERE b.k = a.k >> 40 << 40)')"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 13" ok "$(cat "$T/ic")"
# every id, 60 to a search (a filter takes 64 values; the v9 upgrade above asks for each
# id alone)
"$BT" search --from "$T/a/AWSLogs" -o ndjson --max-items 1000000 2>/dev/null | jq -r .eventID | sort -u > "$T/ids13"
: > "$T/got13"
split -l 60 "$T/ids13" "$T/ids13."
for f in "$T"/ids13.*; do
  args=()
  while read -r id; do args+=(--event-id "$id"); done < "$f"
  "$BT" search --store "$S" "${args[@]}" -o ndjson --max-items 1000000 2>/dev/null | jq -r .eventID >> "$T/got13"
done
eq "v13: every event is found by its id" "$(md5sum < "$T/ids13")" "$(sort -u "$T/got13" | md5sum)"
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" > "$T/s13.json" 2>/dev/null
eq "v13 re-ingest: nothing new (duplicates found in the chunks)" 0 "$(jq .new "$T/s13.json")"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" > "$T/s13c.json" 2>/dev/null
ne "v13 then a larger archive: new events" 0 "$(jq .new "$T/s13c.json")"
eq "v13: a key for every event" "$("$SQL" "$S" 'SELECT count(*) FROM events')" \
  "$("$SQL" "$S" 'SELECT (SELECT sum(length(e)) / 11 FROM eids)
    + (SELECT coalesce(sum(length(e)), 0) / 11 FROM eidr) + (SELECT count(*) FROM eidx)')"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" "$T/a/AWSLogs" > "$T/s13b.json" 2>/dev/null
eq "v13: both archives again, nothing new" 0 "$(jq .new "$T/s13b.json")"
check "upgraded from 13, then a larger archive" "$T/a/AWSLogs" "$T/c/AWSLogs"

# schema 14, as the release before this one wrote it (the archive and projects.json: a
# project's role named by CreateProject, by an older UpdateProject and by a failed one,
# and a call of a build session of that role): `builds` upgrades it
S="$T/v14.db"
P="$(dirname "$0")/store/projects.json"
U=5a5a5a5a-5a5a-4a5a-8a5a-5a5a5a5a5a5a
sqlite3 "$S" < "$(dirname "$0")/store/store-v14.sql" || bad "load the v14 fixture"
eq "the fixture is schema 14" 14 "$(sqlite3 "$S" 'PRAGMA user_version')"
"$BT" builds --store "$S" --output json > "$T/v14.json" 2> "$T/v14.err"
eq "builds of a schema 14 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "v14: the role's project is what the last successful project record said" \
  "fixture-deployer|fixture-api" "$("$SQL" "$S" 'SELECT role, project FROM roles')"
eq "v14: the session's build has that project" "fixture-api:$U fixture-api" \
  "$(jq -r --arg u "$U" '.Builds[] | select(.BuildId | endswith($u)) | "\(.BuildId) \(.Project)"' "$T/v14.json")"
rm -f "$T/fresh14.db"*
"$BT" ingest -q --store "$T/fresh14.db" "$T/a/AWSLogs" "$P" > /dev/null 2>&1
eq "v14: roles = those a fresh ingest writes" "$("$SQL" "$T/fresh14.db" 'SELECT * FROM roles ORDER BY 1')" \
  "$("$SQL" "$S" 'SELECT * FROM roles ORDER BY 1')"
"$BT" builds --store "$T/fresh14.db" --output json > "$T/fresh14.json" 2>/dev/null
eq "v14: builds = those of a fresh ingest" "$(md5sum < "$T/fresh14.json")" "$(md5sum < "$T/v14.json")"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 14" ok "$(cat "$T/ic")"
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" "$P" > "$T/s14.json" 2>/dev/null
eq "v14 re-ingest: nothing new" 0 "$(jq .new "$T/s14.json")"
check "upgraded from 14" "$T/a/AWSLogs" "$P"

# schema 15, as the release before this one wrote it: an ingest of the larger archive of
# the same day upgrades it (`builds` a table in written order, found by uuid through an
# index; new runs of event ids in `eidr`): the archive's ids of each hour are a run of
# their own, every event is found by its id, builds are those of a fresh ingest, and
# both archives again are all duplicates
S="$T/v15.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v15.sql" || bad "load the v15 fixture"
eq "the fixture is schema 15" 15 "$(sqlite3 "$S" 'PRAGMA user_version')"
sqlite3 "$T/v15o.db" < "$(dirname "$0")/store/store-v15.sql" || bad "load the v15 fixture again"
n_old=$(sqlite3 "$S" 'SELECT count(*) FROM builds')
ne "v15: the fixture has builds" 0 "$n_old"
"$BT" ingest -q --store "$S" --summary json "$T/c/AWSLogs" > "$T/s15.json" 2> "$T/s15.err"
eq "ingest onto a schema 15 store: exit 0" 0 $?
eq "upgraded to schema $V" $V "$("$SQL" "$S" 'PRAGMA user_version')"
eq "v15: builds is a rowid table, its uuid unique" 1 \
  "$("$SQL" "$S" "SELECT count(*) FROM sqlite_master WHERE name = 'builds'
    AND sql LIKE '%uuid TEXT NOT NULL UNIQUE%' AND sql NOT LIKE '%WITHOUT ROWID%'")"
eq "v15: the old builds kept, each row as it was" "$n_old" \
  "$(sqlite3 "$S" "ATTACH '$T/v15o.db' AS o; SELECT count(*) FROM builds b JOIN o.builds p
    ON p.uuid = b.uuid AND p.build_id IS b.build_id AND p.project IS b.project
    AND p.start_ms IS b.start_ms AND p.status IS b.status AND p.end_ms IS b.end_ms")"
eq "v15: the new ids of each hour the fixture holds are a run of their own" \
  "$(sqlite3 "$T/v15o.db" 'SELECT group_concat(h) FROM (SELECT DISTINCT k >> 40 AS h FROM eids ORDER BY 1)')" \
  "$("$SQL" "$S" 'SELECT group_concat(h) FROM (SELECT DISTINCT k >> 43 AS h FROM eidr ORDER BY 1)')"
eq "v15: every event id once" "$("$SQL" "$S" 'SELECT count(*) FROM events')" \
  "$("$SQL" "$S" "$EIDS SELECT (SELECT count(DISTINCT bt_eid_ev(x.e, x.i)) FROM x JOIN events e
    ON e.id = bt_eid_ev(x.e, x.i) AND x.k >> 40 = e.t / 3600000)
    + (SELECT count(*) FROM eidx x JOIN events e ON e.id = x.ev AND x.hb = e.t / 3600000)")"
rm -f "$T/fresh15.db"*
"$BT" ingest -q --store "$T/fresh15.db" "$T/a/AWSLogs" "$T/c/AWSLogs" > /dev/null 2>&1
"$BT" builds --store "$T/fresh15.db" --output json > "$T/fresh15.json" 2>/dev/null
"$BT" builds --store "$S" --output json > "$T/v15.json" 2>/dev/null
ne "v15: some builds" 0 "$(jq '.Builds | length' "$T/v15.json")"
eq "v15: builds = those of a fresh ingest" "$(md5sum < "$T/fresh15.json")" "$(md5sum < "$T/v15.json")"
"$SQL" "$S" 'PRAGMA integrity_check' > "$T/ic"
eq "integrity after the upgrade from 15" ok "$(cat "$T/ic")"
"$BT" ingest -q --store "$S" --force --summary json "$T/a/AWSLogs" "$T/c/AWSLogs" > "$T/s15b.json" 2>/dev/null
eq "v15: both archives again, nothing new" 0 "$(jq .new "$T/s15b.json")"
ne "v15: ... all duplicates" 0 "$(jq .duplicates "$T/s15b.json")"
check "upgraded from 15" "$T/c/AWSLogs" "$T/a/AWSLogs"
finish
