#!/usr/bin/env bash
# it_parity.sh - issue 5 part 3: the --query expressions of parity/queries.txt, each
# with --output json, text and table, under TZ=UTC (and those whose output holds times,
# with the paging cases, under TZ=America/Los_Angeles too),
# through `buildtrail lookup` and `/usr/bin/aws cloudtrail lookup-events` against the
# same `buildtrail serve`: stdout and exit status must be identical, byte for byte,
# unless the case is listed in parity/known-differences.txt (documented in
# docs/lookup.md). Paging cases: --page-size small so text output spans several pages,
# --max-items with its NextToken, --starting-token, --no-paginate.
. "$(dirname "$0")/lib.sh"
: "${BT:?}"
[ -x /usr/bin/aws ] || { echo "SKIP: /usr/bin/aws (AWS CLI v2, Debian package awscli) is not installed"; exit 77; }
need jq
need xargs
GEN=${BT_BIN_DIR:?}/bt-gen
[ -x "$GEN" ] || { echo "SKIP: $GEN not built"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)/parity

export HOME="$T/home" AWS_EC2_METADATA_DISABLED=true AWS_PAGER= AWS_MAX_ATTEMPTS=1
export AWS_ACCESS_KEY_ID=AKIDPARITY AWS_SECRET_ACCESS_KEY=not-checked-without-auth
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
      AWS_ENDPOINT_URL AWS_ENDPOINT_URL_CLOUDTRAIL AWS_CA_BUNDLE AWS_DEFAULT_OUTPUT
mkdir -p "$HOME"

S="$T/store.db"
"$GEN" --out "$T/gen" --events 260 --days 1 --seed 5 --accounts 1 --regions us-east-1 >"$T/gen.log" 2>&1 ||
  { bad "bt-gen failed: $(tail -2 "$T/gen.log")"; finish; }
"$BT" ingest --store "$S" -q "$T/gen" >/dev/null || { bad "ingest failed"; finish; }
"$BT" serve --store "$S" --port 0 2>"$T/serve.err" &
cleanup_hooks+=("kill $! 2>/dev/null")
for i in $(seq 1 100); do
  URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err")
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { bad "serve did not start: $(cat "$T/serve.err")"; finish; }
WINDOW="--start-time 2026-10-01T00:00:00Z --end-time 2026-10-01T23:59:59Z"

# a resume token as aws prints it, for the --starting-token cases
TOK=$(TZ=UTC /usr/bin/aws cloudtrail lookup-events --endpoint-url "$URL" $WINDOW --max-items 33 --page-size 20 \
      --query NextToken --output json | jq -r .)
[ -n "$TOK" ] && [ "$TOK" != null ] && ok || bad "no resume token from aws"

# cases: TZ, output, extra args (shell words), query ("-" = none), separated by \x1f
CASES="$T/cases"
: >"$CASES"
# every query under UTC; under the second zone the queries whose output holds times
# (EventTime, whole events) and all paging cases, to keep the run short
TIMELY="EventTime|^Events\[0\]$|^Events\[:2\]$|NoSuchEvent'\]$|^Events\[-1\]|^@$"
for tz in UTC America/Los_Angeles; do
  while IFS= read -r q; do
    case "$q" in '#'* | '') continue ;; esac
    [ "$tz" = UTC ] || [[ "$q" =~ $TIMELY ]] || continue
    for fmt in json text table; do
      printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "" "$q" >>"$CASES"
    done
  done <"$HERE/queries.txt"
  for fmt in json text table; do
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--page-size 30" "Events[].EventName" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--page-size 30" "Events[].[EventTime,EventName]" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--page-size 25 --max-items 60" "-" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--page-size 20 --max-items 45" "Events[].EventId" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--page-size 20 --max-items 40" "NextToken" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--max-items 7" "{ids: Events[].EventId, next: NextToken}" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--starting-token $TOK --max-items 12 --page-size 20" "Events[].[EventId,EventTime]" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--no-paginate --max-results 6" "-" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--lookup-attributes AttributeKey=EventSource,AttributeValue=codebuild.amazonaws.com --page-size 4" "Events[].[EventName,Username]" >>"$CASES"
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$tz" "$fmt" "--page-size 50" "-" >>"$CASES"
  done
done

# BT_PARITY_SAMPLE=N keeps every Nth case (CI's sanitizer run, where the C side is what
# is checked and the AWS CLI's start-up dominates the time); the count is printed below
if [ "${BT_PARITY_SAMPLE:-1}" -gt 1 ]; then
  awk -v n="$BT_PARITY_SAMPLE" 'NR % n == 1' "$CASES" >"$CASES.s" && mv "$CASES.s" "$CASES"
fi

# run_case LINE: prints "PASS <case>" or "FAIL <case>" (+ a diff excerpt)
run_case() {
  local tz fmt extra q d ra rb args=()
  IFS=$'\x1f' read -r tz fmt extra q <<<"$1"
  d=$(mktemp -d "$T/case.XXXXXX")
  eval "args=($extra)"
  [ "$q" != "-" ] && args+=(--query "$q")
  TZ=$tz timeout 120 /usr/bin/aws cloudtrail lookup-events --endpoint-url "$URL" $WINDOW --output "$fmt" "${args[@]}" >"$d/a" 2>"$d/ae"
  ra=$?
  # (serve does not throttle: the 2 req/s limiter is lifted to keep the run short)
  TZ=$tz timeout 120 "$BT" lookup --rate 0 --endpoint-url "$URL" $WINDOW --output "$fmt" "${args[@]}" >"$d/b" 2>"$d/be"
  rb=$?
  if [ "$ra" = "$rb" ] && cmp -s "$d/a" "$d/b"; then
    echo "PASS	$tz	$fmt	$extra	$q	$(wc -c <"$d/a") bytes, exit $ra"
  else
    echo "FAIL	$tz	$fmt	$extra	$q	exit aws $ra / buildtrail $rb; $(diff "$d/a" "$d/b" | head -4 | tr '\n' ' ' | head -c 300) $(head -c 200 "$d/be")"
  fi
  rm -rf "$d"
}
export -f run_case
export URL WINDOW BT T
xargs -P 2 -d '\n' -n 1 bash -c 'run_case "$1"' _ <"$CASES" >"$T/results"

KNOWN="$HERE/known-differences.txt"
while IFS=$'\t' read -r res tz fmt extra q info; do
  key="$fmt	$q"
  if [ "$res" = PASS ]; then
    ok
  elif [ -f "$KNOWN" ] && grep -Fxq -- "$key" "$KNOWN"; then
    ok
    echo "known difference (docs/lookup.md): $tz $fmt $extra $q"
  else
    bad "parity: TZ=$tz --output $fmt $extra --query '$q': $info"
  fi
done <"$T/results"
echo "parity: $(grep -c '^PASS' "$T/results") of $(wc -l <"$CASES") cases byte-identical ($(grep -vc '^#' "$HERE/queries.txt") queries x json/text/table under UTC, the time-bearing ones and 10 paging cases x 3 formats under both zones)"
cp "$T/results" "${BT_BIN_DIR}/parity-results.tsv" 2>/dev/null
finish
