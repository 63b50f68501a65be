#!/usr/bin/env bash
# it_store_upgrade.sh - a store of the previous schema (2) upgrades in place on its first
# writable open: the same events, the same search results (also for the fields that
# block summaries now serve, over blocks written before summaries existed), duplicates
# still recognised, and events ingested afterwards found through their summaries.
# The schema-2 store is a fixture made by the release before schema 3 (ingest of
# `bt-gen --seed 11 --events 120 --days 1`, its sources rows deleted, `sqlite3 .dump`):
# it is loaded into a database here, so no binary file is kept in the tree.
. "$(dirname "$0")/lib.sh"
need jq
need sqlite3
: "${BT:?}" "${BT_BIN_DIR:?}"
GEN="$BT_BIN_DIR/bt-gen"
[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }
"$GEN" --out "$T/a" --seed 11 --events 120 --days 1 >/dev/null 2>&1 || bad "bt-gen a"
"$GEN" --out "$T/b" --seed 12 --events 300 --days 1 >/dev/null 2>&1 || bad "bt-gen b"
S="$T/old.db"
sqlite3 "$S" < "$(dirname "$0")/store/store-v2.sql" || bad "load the fixture"
eq "the fixture is schema 2" 2 "$(sqlite3 "$S" 'PRAGMA user_version')"
n_old=$(sqlite3 "$S" 'SELECT count(*) FROM events')

# the first writable open upgrades; the archive it came from is all duplicates
"$BT" ingest -q --store "$S" --summary json "$T/a/AWSLogs" > "$T/s1.json" 2>/dev/null
eq "re-ingest: exit 0" 0 $?
eq "upgraded to schema 3" 3 "$(sqlite3 "$S" 'PRAGMA user_version')"
eq "re-ingest: nothing new" 0 "$(jq .new "$T/s1.json")"
eq "events kept" "$n_old" "$(sqlite3 "$S" 'SELECT count(*) FROM events')"
eq "every old block has a summary row" "$(sqlite3 "$S" 'SELECT count(DISTINCT blk) FROM events')" \
  "$(sqlite3 "$S" 'SELECT count(*) FROM bsum')"
sqlite3 "$S" 'PRAGMA integrity_check' > "$T/ic"
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
check() { # check NAME ARCHIVES...
  local name=$1 v
  shift
  same "$name all" "$@" --
  for v in $(values "$1" '.userIdentity.arn'); do same "$name" "$@" -- --principal "$v"; done
  for v in $(values "$1" '.sourceIPAddress'); do same "$name" "$@" -- --source-ip "$v"; done
  for v in $(values "$1" '.userIdentity.accessKeyId'); do same "$name" "$@" -- --access-key-id "$v"; done
  for v in $(values "$1" '.userIdentity.sessionContext.sessionIssuer.userName'); do
    same "$name" "$@" -- --username "$v"
  done
  same "$name" "$@" -- --username no-such-user-anywhere
}
check "upgraded" "$T/a/AWSLogs"
old_blocks=$(sqlite3 "$S" 'SELECT count(*) FROM bsum')

# new events on top: found through their summaries, old ones still through the ranges
"$BT" ingest -q --store "$S" "$T/b/AWSLogs" >/dev/null 2>&1
eq "second ingest: exit 0" 0 $?
check "after a new ingest" "$T/a/AWSLogs" "$T/b/AWSLogs"
eq "old blocks keep their summary without a filter" "$old_blocks" \
  "$(sqlite3 "$S" 'SELECT count(*) FROM bsum WHERE bloom IS NULL')"
ne "new blocks have a filter" 0 "$(sqlite3 "$S" 'SELECT count(*) FROM bsum WHERE bloom IS NOT NULL')"
finish
