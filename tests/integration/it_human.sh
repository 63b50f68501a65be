#!/usr/bin/env bash
# it_human.sh - the views for people, driven in a pseudo-terminal (script(1)) at 60,
# 120 and 200 columns: no line is wider than the terminal, and no id, error message or
# project-change value is cut (the text, with the wrapping undone, holds every one whole,
# as --output json has it). Also: build --errors, "1 call", the pager, --color; csv cells
# hold scalars; --query reads the records through the Record view, and works with ndjson.
. "$(dirname "$0")/lib.sh"
need jq
need script
: "${BT:?}" "${BT_BIN_DIR:?}"
GEN="$BT_BIN_DIR/bt-gen"
[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }
A="$T/a"; S="$T/s.db"
"$GEN" --out "$A" --seed 3 --events 30000 --eventbridge --accounts 2 --days 2 >/dev/null 2>&1 || bad "bt-gen"
"$BT" ingest -q --store "$S" "$A" >/dev/null || bad "ingest"
export BUILDTRAIL_STORE="$S"
unset NO_COLOR

# pty COLS CMD... : runs CMD in a pseudo-terminal COLS wide (50 rows), output without \r
pty() {
  local cols=$1; shift
  local cmd; printf -v cmd '%q ' "$@"
  script -qec "stty cols $cols rows 50; $cmd" /dev/null < /dev/null | tr -d '\r'
}
# the visible width of the widest line (escapes removed)
widest() { sed 's/\x1b\[[0-9;]*m//g' | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }
# squash: no whitespace, no escapes (wrapping undone)
squash() { sed 's/\x1b\[[0-9;]*m//g' | tr -d ' \n\t'; }

u=$(jq -r '[.builds[] | select((.project_changes | length) > 0 and .errors > 0)][0].uuid' "$A/ground-truth.json")
"$BT" build "$u" --output json > "$T/tl.json" || bad "build --output json"
for cols in 60 120 200; do
  pty "$cols" "$BT" build "$u" --no-pager > "$T/view"
  w=$(widest < "$T/view")
  [ "$w" -le "$cols" ] && ok || bad "build at $cols columns: a line is $w wide"
  flat=$(squash < "$T/view")
  n=0
  while IFS= read -r want; do
    n=$((n + 1))
    contains "build at $cols: whole [$want]" "$(printf '%s' "$want" | tr -d ' \n\t')" "$flat"
  done < <(jq -r '.Errors[].ErrorMessage // empty, .Build.BuildId, .Build.Trigger.Principal // empty,
                  (.ProjectChanges[].Changes[] | (.New // empty), (.Old // empty))' "$T/tl.json" | head -60)
  [ "$n" -gt 3 ] && ok || bad "build at $cols: only $n facts checked"
done
# no %.100s left: an error message longer than 100 characters is there whole when piped too
long=$(jq -r '[.Errors[].ErrorMessage | select(length > 100)][0] // empty' "$T/tl.json")
[ -n "$long" ] && ok || bad "no long error message in the sample build"
contains "piped: long message whole" "$long" "$("$BT" build "$u")"

# --errors: only failed calls in the timeline
errs=$(jq '.Errors | length' "$T/tl.json")
got=$("$BT" build "$u" --errors | sed -n '/^Timeline/,$p' | grep -c '^  [0-9]')
eq "build --errors: one line per failed call" "$errs" "$got"
# "1 call", never "1 calls"
"$BT" build "$u" > "$T/piped"
if grep -qE '(^|[^0-9])1 calls' "$T/piped"; then bad "build: '1 calls'"; else ok; fi

# pager: only on a terminal, only when taller; --no-pager turns it off
printf '#!/bin/sh\necho PAGED; cat >/dev/null\n' > "$T/pager"; chmod +x "$T/pager"
out=$(PAGER="$T/pager" pty 120 "$BT" build "$u")
contains "pager used on a terminal" "PAGED" "$out"
out=$(PAGER="$T/pager" pty 120 "$BT" build "$u" --no-pager)
case "$out" in *PAGED*) bad "--no-pager still paged" ;; *) ok ;; esac
out=$(PAGER="$T/pager" "$BT" build "$u" | head -1)
case "$out" in *PAGED*) bad "paged when piped" ;; *) ok ;; esac

# colour: on a terminal by default; NO_COLOR, TERM=dumb, --color never turn it off
esc=$'\033['
contains "colour on a terminal" "$esc" "$(pty 120 "$BT" build "$u" --no-pager)"
out=$(NO_COLOR=1 pty 120 "$BT" build "$u" --no-pager)
case "$out" in *"$esc"*) bad "NO_COLOR: still coloured" ;; *) ok ;; esac
out=$(TERM=dumb pty 120 "$BT" build "$u" --no-pager)
case "$out" in *"$esc"*) bad "TERM=dumb: still coloured" ;; *) ok ;; esac
out=$(pty 120 "$BT" build "$u" --no-pager --color never)
case "$out" in *"$esc"*) bad "--color never: still coloured" ;; *) ok ;; esac
contains "--color always when piped" "$esc" "$("$BT" build "$u" --color always)"

# builds: one table renderer; ids never cut at any width, every column has a header,
# only the least important columns are shortened, with a visible …
"$BT" builds --output json --query 'Builds[].BuildId' | jq -r '.[]' | sort > "$T/ids"
for cols in 60 120 200; do
  pty "$cols" "$BT" builds > "$T/tab"
  head -1 "$T/tab" | grep -q 'ERR *$' && ok || bad "builds at $cols: last column has no header"
  sed 1d "$T/tab" | sed 's/\x1b\[[0-9;]*m//g' | grep -oE '[A-Za-z0-9_.-]+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' \
    | sort -u > "$T/seen"
  eq "builds at $cols: every id whole" "$(wc -l < "$T/ids")" "$(comm -12 "$T/ids" "$T/seen" | wc -l)"
done
w=$(pty 120 "$BT" builds | widest)
[ "$w" -le 124 ] && ok || bad "builds at 120: $w wide"
grep -q '…' <(pty 120 "$BT" builds) && ok || bad "builds at 120: no visible … where cut"
out=$("$BT" builds)
case "$out" in *…*) bad "builds piped: cells cut" ;; *) ok ;; esac

# info: the accounts in the same renderer, times local with offset; --utc forces UTC
out=$(TZ=Europe/Paris "$BT" info)
contains "info: local time with offset" "+02:00" "$out"
contains "info: a header on the table" "ACCOUNT" "$out"
out=$(TZ=Europe/Paris "$BT" info --utc)
case "$out" in *"+02:00"*) bad "info --utc: still local" ;; *) ok ;; esac
contains "builds --utc" "START (+00:00)" "$(TZ=Europe/Paris "$BT" builds --utc | head -1)"

# search: a table for people on a terminal (error codes whole), JSON when piped
"$BT" search --errors --max-items 30 --output json | jq -r '.Events[] | (.CloudTrailEvent | fromjson | .errorCode)' | sort -u > "$T/codes"
for cols in 60 120 200; do
  pty "$cols" "$BT" search --errors --max-items 30 > "$T/st"
  head -1 "$T/st" | grep -q '^TIME  *EVENT  *SOURCE  *PRINCIPAL  *ERROR  *RESOURCES' && ok || bad "search at $cols: header [$(head -1 "$T/st")]"
  eq "search at $cols: 30 rows" 30 "$(grep -c "^20" "$T/st")"
  while read -r code; do
    grep -qE "(^| )$code( |$)" <(sed 's/\x1b\[[0-9;]*m//g' "$T/st") && ok || bad "search at $cols: error code $code cut"
  done < "$T/codes"
done
"$BT" search --errors --max-items 3 | jq -e '.Events | length == 3' >/dev/null && ok || bad "search piped: not the LookupEvents JSON"
pty 120 "$BT" search --errors --max-items 3 --output json | grep -q '"Events"' && ok || bad "search -o json on a terminal"
pty 120 "$BT" search --event-name NoSuchEvent | grep -q 'No events match' && ok || bad "search: no events on a terminal"
# a failing command prints nothing on stdout
status "search, no store: exit 4" 4 "$BT" search --store "$T/none.db"
eq "search, no store: stdout empty" "" "$(cat "$T/.out")"

# no silent wrong answers
status "--start-time 2026-02-30 rejected" 2 "$BT" search --start-time 2026-02-30
contains "calendar: the message" "not a time" "$(cat "$T/.err")"
status "lookup: a bad time, same message" 252 "$BT" lookup --region us-east-1 --start-time 2026-02-30
contains "lookup: same message as search" "--start-time '2026-02-30': not a time" "$(cat "$T/.err")"
case "$(cat "$T/.err")" in *"<class"*) bad "lookup: Python-style message" ;; *) ok ;; esac
f=$("$BT" builds --status FAILED --output json --query 'length(Builds)')
eq "builds --status failed (any case)" "$f" "$("$BT" builds --status failed --output json --query 'length(Builds)')"
status "builds --status BROKEN rejected" 2 "$BT" builds --status BROKEN
contains "builds --status: the list" "SUCCEEDED, FAILED" "$(cat "$T/.err")"
eq "builds --status BROKEN: stdout empty" "" "$(cat "$T/.out")"
mkdir -p "$T/empty"
status "ingest of an empty directory: exit 3" 3 "$BT" ingest --store "$T/e.db" "$T/empty"
contains "ingest of an empty directory: says so" "nothing found" "$(cat "$T/.err")"
[ ! -e "$T/e.db" ] && ok || bad "ingest of an empty directory made a store"

# short build ids: a unique prefix resolves, with or without the project; an ambiguous
# one lists the candidates
short=${u:0:8}
eq "build <8 chars>" "$(jq -r .Build.BuildId "$T/tl.json")" "$("$BT" build "$short" --output json --query Build.BuildId | jq -r .)"
p=$(jq -r .Build.Project "$T/tl.json")
eq "build project:<8 chars>" "$u" "$("$BT" build "$p:$short" --output json --query Build.Uuid | jq -r .)"
status "build: unknown prefix" 5 "$BT" build ffff0000
rec() { printf '{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/cb-role/AWSCodeBuild-%s","accountId":"111122223333"},"eventTime":"2026-10-01T10:00:0%sZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"ev-%s","readOnly":true,"recipientAccountId":"111122223333"}' "$1" "$2" "$2"; }
printf '{"Records":[%s,%s]}' "$(rec 288088e1-1111-4222-8333-444455556666 1)" "$(rec 288088e1-9999-4222-8333-444455556666 2)" > "$T/amb.json"
"$BT" ingest -q --store "$T/amb.db" "$T/amb.json" >/dev/null
status "build: ambiguous prefix" 2 "$BT" build --store "$T/amb.db" 288088e1
contains "ambiguous: lists candidate 1" "288088e1-1111-4222-8333-444455556666" "$(cat "$T/.err")"
contains "ambiguous: lists candidate 2" "288088e1-9999-4222-8333-444455556666" "$(cat "$T/.err")"
eq "ambiguous: stdout empty" "" "$(cat "$T/.out")"
eq "longer prefix resolves" "288088e1-9999-4222-8333-444455556666" "$("$BT" build --store "$T/amb.db" 288088e1-9 -o json --query Build.Uuid | jq -r .)"

# consistency: did you mean, version, builds -o ndjson
status "misspelled command" 2 "$BT" serch
contains "did you mean search" "did you mean 'search'" "$(cat "$T/.err")"
status "misspelled option" 2 "$BT" builds --stauts FAILED
contains "did you mean --status" "did you mean '--status'" "$(cat "$T/.err")"
v=$("$BT" --version)
case "$v" in "buildtrail "[0-9]*) ok ;; *) bad "--version: [$v]" ;; esac
eq "version = --version" "$v" "$("$BT" version)"
eq "builds -o ndjson: one line per build" "$("$BT" builds -o json --query 'length(Builds)')" "$("$BT" builds -o ndjson | jq -c . | wc -l)"
eq "builds -o ndjson: the json's builds" "$("$BT" builds -o json --query 'Builds[0].BuildId')" "$("$BT" builds -o ndjson | head -1 | jq .BuildId)"
status "--color bad value" 2 "$BT" info --color sometimes

# paging and order: --max-items gives a NextToken, --starting-token continues, pages
# join up to the whole list; --reverse is oldest first
all=$("$BT" search --max-items 6 -o json --query 'Events[].EventId' | jq -c .)
p1=$("$BT" search --max-items 3 -o json)
tok=$(jq -r .NextToken <<<"$p1")
[ -n "$tok" ] && [ "$tok" != null ] && ok || bad "search --max-items: no NextToken"
p2=$("$BT" search --max-items 3 --starting-token "$tok" -o json)
eq "search: two pages = one" "$all" "$(jq -c -s '[.[].Events[].EventId]' <(echo "$p1") <(echo "$p2"))"
eq "search --reverse: oldest first" "$("$BT" search -o json --query 'Events[-1].EventId')" "$("$BT" search --reverse --max-items 1 -o json --query 'Events[0].EventId')"
contains "search -o ndjson: token on stderr" "--starting-token" "$("$BT" search --max-items 1 -o ndjson 2>&1 >/dev/null)"
"$BT" search -o json > "$T/all.json"
jq -e 'has("NextToken") | not' "$T/all.json" >/dev/null && ok || bad "search without --max-items: a NextToken"
ball=$("$BT" builds --max-items 6 -o json --query 'Builds[].Uuid' | jq -c .)
b1=$("$BT" builds --max-items 3 -o json)
b2=$("$BT" builds --max-items 3 --starting-token "$(jq -r .NextToken <<<"$b1")" -o json)
eq "builds: two pages = one" "$ball" "$(jq -c -s '[.[].Builds[].Uuid]' <(echo "$b1") <(echo "$b2"))"
eq "builds --reverse" "$("$BT" builds -o json --query 'Builds[-1].Uuid')" "$("$BT" builds --reverse --max-items 1 -o json --query 'Builds[0].Uuid')"
status "builds: a foreign token" 2 "$BT" builds --starting-token nonsense

# csv cells hold scalars: nested values are dotted columns (Resources.0.ResourceName),
# every record has the header's fields, and the cells equal the json's values
# csv_same NAME CSV JSON [CONTAINER]: the csv is the json's rows (CONTAINER's list, or the
# json itself when a list) flattened: path a.0.b for a[0].b; absent and null are empty
csv_same() {
  python3 - "$2" "$3" "${4:-}" <<'PY' && ok || bad "$1"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
doc = json.load(open(sys.argv[2]))
items = doc[sys.argv[3]] if sys.argv[3] else doc
def flat(v, path, out):
    if isinstance(v, dict):
        for k, x in v.items(): flat(x, f"{path}.{k}" if path else k, out)
    elif isinstance(v, list):
        for i, x in enumerate(v): flat(x, f"{path}.{i}" if path else str(i), out)
    else:
        out[path] = "" if v is None else ("true" if v is True else "false" if v is False else str(v))
    return out
head, body = rows[0], rows[1:]
assert len(body) == len(items), f"{len(body)} records, {len(items)} rows"
want_cols = {}
for it in items:
    for k in flat(it, "", {}): want_cols.setdefault(k)
assert sorted(head) == sorted(want_cols), f"columns {set(head) ^ set(want_cols)}"
for r, it in zip(body, items):
    assert len(r) == len(head), f"{len(r)} fields, header {len(head)}"
    f = flat(it, "", {})
    for h, cell in zip(head, r):
        assert cell == f.get(h, ""), f"{h}: {cell!r} != {f.get(h, '')!r}"
PY
}
"$BT" search --max-items 300 -o csv > "$T/s.csv"
"$BT" search --max-items 300 -o json > "$T/s.json"
csv_same "search -o csv = json flattened" "$T/s.csv" "$T/s.json" Events
contains "search -o csv: dotted resource columns" "Resources.0.ResourceName" "$(head -1 "$T/s.csv")"
"$BT" builds -o csv > "$T/b.csv"
"$BT" builds -o json > "$T/b.json"
csv_same "builds -o csv = json flattened" "$T/b.csv" "$T/b.json" Builds

# --query reads the record's own fields through the Record view; without it no event
# carries one; with ndjson the query applies to each line's record
eq "Record: errorCode as in CloudTrailEvent" \
   "$(jq -c '[.Events[].CloudTrailEvent | fromjson | .errorCode // empty]' "$T/s.json")" \
   "$("$BT" search --max-items 300 -o json --query 'Events[].Record.errorCode' | jq -c .)"
eq "Record: a filter on a record field" \
   "$(jq -c '[.Events[] | select((.CloudTrailEvent | fromjson | .userIdentity.type) == "AssumedRole") | .EventId]' "$T/s.json")" \
   "$("$BT" search --max-items 300 -o json --query "Events[?Record.userIdentity.type=='AssumedRole'].EventId" | jq -c .)"
eq "Record: the parsed CloudTrailEvent" "$(jq -c '.Events[0].CloudTrailEvent | fromjson' "$T/s.json")" \
   "$("$BT" search --max-items 300 -o json --query 'Events[0].Record' | jq -c .)"
eq "no Record unless the query names it" "$(jq -c '.Events[0] | keys' "$T/s.json")" \
   "$("$BT" search --max-items 300 -o json --query 'Events[0]' | jq -c keys)"
"$BT" search --max-items 300 -o csv --query 'Events[].Record' > "$T/r.csv"
jq '[.Events[].CloudTrailEvent | fromjson]' "$T/s.json" > "$T/r.json"
csv_same "csv of the records = the records flattened" "$T/r.csv" "$T/r.json"
contains "csv of the records: deep dotted columns" "userIdentity.sessionContext.sessionIssuer.userName" "$(head -1 "$T/r.csv")"
"$BT" search --max-items 300 -o ndjson > "$T/s.ndjson"
eq "ndjson --query: per line" "$(jq -c '{id: .eventID, e: .errorCode}' "$T/s.ndjson")" \
   "$("$BT" search --max-items 300 -o ndjson --query '{id: eventID, e: errorCode}')"
eq "ndjson --query: one line per event, null too" 300 "$("$BT" search --max-items 300 -o ndjson --query errorCode | wc -l)"
status "ndjson --query error: usage" 2 "$BT" search --max-items 3 -o ndjson --query 'abs(eventName)'
eq "ndjson --query error: stdout empty" "" "$(cat "$T/.out")"

# configuration file: flag > environment > config > default
cat > "$T/config.toml" <<CFG
# buildtrail settings
[defaults]
store = "$S"
output = 'json'
timezone = "Europe/Paris"
color = always
CFG
cfg() { env -u BUILDTRAIL_STORE -u TZ -u NO_COLOR BUILDTRAIL_CONFIG="$T/config.toml" "$@"; }
eq "config: store" "$("$BT" info --store "$S" -o json --query Events)" "$(cfg "$BT" info --query Events)"
cfg "$BT" builds > "$T/cb.json"
jq -e '.Builds | length > 0' "$T/cb.json" >/dev/null && ok || bad "config: output = json"
contains "config: timezone" "+02:00" "$(jq -r '.Builds[0].StartTime' "$T/cb.json")"
contains "flag beats config: --utc" "+00:00" "$(cfg "$BT" builds --utc --query 'Builds[0].StartTime')"
contains "environment beats config: TZ" "+09:00" "$(cfg env TZ=Asia/Tokyo "$BT" builds --query 'Builds[0].StartTime')"
contains "flag beats config: -o human" "BUILD" "$(cfg "$BT" builds -o human | head -1)"
contains "config: color = always" "$esc" "$(cfg "$BT" build "$u" --no-pager)"
out=$(cfg env NO_COLOR=1 "$BT" build "$u" --no-pager)
case "$out" in *"$esc"*) bad "environment beats config: NO_COLOR" ;; *) ok ;; esac
status "config: store beaten by BUILDTRAIL_STORE" 4 env BUILDTRAIL_CONFIG="$T/config.toml" BUILDTRAIL_STORE="$T/nothing.db" "$BT" info
printf 'color = purple\n' > "$T/bad.toml"
status "config: a bad value" 2 env BUILDTRAIL_CONFIG="$T/bad.toml" "$BT" info
contains "config: says where" "bad.toml" "$(cat "$T/.err")"
status "config: BUILDTRAIL_CONFIG missing" 2 env BUILDTRAIL_CONFIG="$T/none.toml" "$BT" info

# completions: generated from the option tables, the committed copies are current, and
# bash's completes commands, options and values
SRC=${BT_SOURCE_DIR:-$(dirname "$0")/../..}
for sh in bash zsh fish; do
  if "$BT" help --completions "$sh" | cmp -s - "$SRC/completions/buildtrail.$sh"; then ok; else
    bad "completions/buildtrail.$sh is stale: regenerate with 'buildtrail help --completions $sh > completions/buildtrail.$sh'"; fi
done
comp() { bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _buildtrail; echo "${COMPREPLY[*]}"' _ "$SRC/completions/buildtrail.bash" "$@"; }
eq "bash: commands" "search" "$(comp buildtrail sea)"
contains "bash: options" "--status" "$(comp buildtrail builds --sta)"
contains "bash: values" "ndjson" "$(comp buildtrail builds --output '')"
status "help --completions tcsh" 2 "$BT" help --completions tcsh

# cmake --install: binary, man page, completions, libraries with a soname, headers, .pc
if command -v cmake >/dev/null && [ -f "$BT_BIN_DIR/cmake_install.cmake" ]; then
  cmake --install "$BT_BIN_DIR" --prefix "$T/inst" >/dev/null || bad "cmake --install"
  for f in bin/buildtrail share/man/man1/buildtrail.1 share/bash-completion/completions/buildtrail \
           share/zsh/vendor-completions/_buildtrail share/fish/vendor_completions.d/buildtrail.fish \
           include/buildtrail/builds.h; do
    [ -e "$T/inst/$f" ] && ok || bad "cmake --install: no $f"
  done
  pc=$(find "$T/inst" -name buildtrail.pc | head -1)
  lib=$(dirname "$(dirname "$pc")")
  [ -e "$lib/libbuildtrail.a" ] && ok || bad "cmake --install: no libbuildtrail.a"
  [ -L "$lib/libbuildtrail.so.0" ] && ok || bad "cmake --install: no libbuildtrail.so.0"
  flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-variable=prefix="$T/inst" --cflags --libs buildtrail)
  # a sanitizer build's library needs the sanitizer runtimes in the program too
  san=
  grep -q '^BT_SANITIZE:BOOL=ON' "$BT_BIN_DIR/CMakeCache.txt" 2>/dev/null && san="-fsanitize=address,undefined"
  if cc $san -o "$T/ex" "$SRC/examples/build_timeline.c" $flags 2>"$T/cc.err"; then
    LD_LIBRARY_PATH="$lib" "$T/ex" 2>&1 | grep -q usage && ok || bad "example against the installed library: $(LD_LIBRARY_PATH="$lib" "$T/ex" 2>&1 | head -2)"
  else bad "cc with pkg-config flags: $(head -3 "$T/cc.err")"; fi
fi
finish
