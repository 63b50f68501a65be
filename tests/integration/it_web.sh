#!/usr/bin/env bash
# it_web.sh - the web view of `serve` and `build --output html`, in a real browser
# (headless Chromium, loopback only): a generated archive is ingested and served; the
# builds list and a failed build's page are loaded and checked through the DOM (the
# AccessDenied calls, the phases, the project changes); screenshots at 1280x800 and
# 390x844 are kept under $BT_BIN_DIR/artifacts/web; records full of script payloads
# render inert (served pages and the standalone report); short build ids redirect to
# the build or list the candidates; /api/builds/<id> equals
# `build <id> --output json` for every build; the UI token login and its rejection;
# HTTPS; the refusal to serve the web view off loopback without token, auth and TLS.
. "$(dirname "$0")/lib.sh"
: "${BT:?}" "${BT_BIN_DIR:?}"
need jq
need curl
need python3
need openssl
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { echo "SKIP: chromium not installed (scripts/deps.sh installs it)"; exit 77; }
GEN="$BT_BIN_DIR/bt-gen"
[ -x "$GEN" ] || { echo "SKIP: bt-gen not built"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)/web
ART="$BT_BIN_DIR/artifacts/web"
mkdir -p "$ART"
export TZ=UTC

# chrome ARGS... URL: a fresh profile each time, no network beyond the URL given
chrome() {
  local ud
  ud=$(mktemp -d "$T/chrome.XXXXXX")
  timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --hide-scrollbars --user-data-dir="$ud" "$@" 2>>"$T/chrome.log"
}
dom() { chrome --dump-dom "$1" > "$2"; }
count() { python3 "$HERE/dom_check.py" count "$1" "$2"; }
# has NAME NEEDLE FILE: FILE contains NEEDLE (a fixed string)
has() { if grep -qF -- "$2" "$3"; then ok; else bad "$1: [$2] not in $3"; fi; }
shot() { # shot NAME URL: 1280x800 and 390x844
  chrome --window-size=1280,800 --screenshot="$ART/$1-1280x800.png" "$2" >/dev/null
  chrome --window-size=390,844 --screenshot="$ART/$1-390x844.png" "$2" >/dev/null
  [ -s "$ART/$1-1280x800.png" ] && [ -s "$ART/$1-390x844.png" ] && ok || bad "screenshots of $1"
}

# start_server NAME ARGS...: serve on a free port; sets URL
start_server() {
  local name=$1 i
  shift
  "$BT" serve --store "$S" --port 0 "$@" 2>"$T/$name.err" &
  echo $! > "$T/$name.pid"
  cleanup_hooks+=("kill $(cat "$T/$name.pid")")
  for i in $(seq 150); do
    URL=$(sed -n 's/^listening on \(https\{0,1\}:[^ ]*\)$/\1/p' "$T/$name.err")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  bad "$name: serve did not start: $(cat "$T/$name.err")"
  finish
}

# ---- a store: a generated archive and records full of payloads -------------------------
S="$T/store.db"
"$GEN" --out "$T/gen" --events 30000 --eventbridge --seed 7 --days 2 >"$T/gen.log" 2>&1 || { bad "bt-gen: $(tail -2 "$T/gen.log")"; finish; }
XU=5a5a5a5a-1111-4222-8333-444455556666
mkdir -p "$T/xss"
python3 "$HERE/xss_records.py" "$XU" > "$T/xss/xss.json" || bad "xss records"
# two builds whose uuids share their first 8 characters (short ids)
AU1=288088e1-1111-4222-8333-444455556666 AU2=288088e1-9999-4222-8333-444455556666
mkdir -p "$T/amb"
rec() { printf '{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/cb-role/AWSCodeBuild-%s","accountId":"111122223333"},"eventTime":"2026-10-01T10:00:0%sZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"amb-%s","readOnly":true,"recipientAccountId":"111122223333"}' "$1" "$2" "$2"; }
printf '{"Records":[%s,%s]}' "$(rec $AU1 1)" "$(rec $AU2 2)" > "$T/amb/amb.json"
"$BT" ingest -q --store "$S" "$T/gen" "$T/xss" "$T/amb" >/dev/null || { bad "ingest"; finish; }

# the failed build: AccessDenied calls and project changes before it
FU=
for u in $("$BT" builds --store "$S" --status FAILED --errors -o json --query 'Builds[?!Batch].Uuid' | jq -r '.[]'); do
  "$BT" build --store "$S" "$u" -o json > "$T/f.json"
  if jq -e '(.ProjectChanges | length) > 0 and ([.Errors[].ErrorCode | select(startswith("AccessDenied"))] | length) > 0' "$T/f.json" >/dev/null; then
    FU=$u; break
  fi
done
[ -n "$FU" ] && ok || { bad "no failed build with AccessDenied calls and project changes"; finish; }

start_server main
MAIN=$URL
contains "loopback by default" "http://127.0.0.1:" "$MAIN"

# ---- the builds list ------------------------------------------------------------------
dom "$MAIN/" "$T/list.html"
python3 "$HERE/dom_check.py" inert "$T/list.html" /static/web.js > "$T/inert" && ok || bad "builds list not inert: $(head -5 "$T/inert")"
n=$(count "$T/list.html" '#builds')
eq "builds list: the table" 1 "$n"
rows=$(grep -o '<a href="/builds/[^"]*">' "$T/list.html" | wc -l)
[ "$rows" -ge 50 ] && ok || bad "builds list: only $rows build links"
[ "$(count "$T/list.html" 'div.strip')" -ge 3 ] && ok || bad "builds list: no per-project strips"
has "builds list: pager" "page 1 of" "$T/list.html"
dom "$MAIN/?status=FAILED&errors=1&sort=errors&dir=desc" "$T/failed.html"
has "filtered list: sorted by errors" 'aria-sort="descending"' "$T/failed.html"
want=$("$BT" builds --store "$S" --status FAILED --errors -o json --query 'length(Builds)')
has "filtered list: count" "$want builds" "$T/failed.html"
shot builds "$MAIN/"

# ---- a failed build's page ---------------------------------------------------------------
dom "$MAIN/builds/$FU" "$T/build.html"
python3 "$HERE/dom_check.py" inert "$T/build.html" /static/web.js > "$T/inert" && ok || bad "build page not inert: $(head -5 "$T/inert")"
errs=$(jq '.Errors | length' "$T/f.json")
calls=$(jq '[.Events[] | select(.Kind == "call")] | length' "$T/f.json")
eq "build page: one tick per call" "$calls" "$(count "$T/build.html" 'a.tk')"
eq "build page: error ticks" "$errs" "$(count "$T/build.html" 'a.tk.err')"
eq "build page: error rows" "$errs" "$(grep -o '<tr id="c[0-9]*" class="err"' "$T/build.html" | wc -l)"
ad=$(jq '[.Errors[] | select(.ErrorCode | startswith("AccessDenied"))] | length' "$T/f.json")
[ "$(grep -o '>AccessDenied[A-Za-z]*<' "$T/build.html" | wc -l)" -ge "$ad" ] && ok || bad "build page: AccessDenied calls missing"
eq "build page: lanes" "$(jq '.Services | length' "$T/f.json")" "$(grep -o '<rect class="lanebg"' "$T/build.html" | wc -l)"
has "build page: phases row" '>Phases<' "$T/build.html"
for ph in $(jq -r '[.Events[] | select(.Kind == "phase") | .Phase] | unique | .[]' "$T/f.json"); do
  has "build page: phase $ph" "<title>$ph " "$T/build.html"
done
nc=$(jq '.ProjectChanges | length' "$T/f.json")
eq "build page: change markers" "$nc" "$(count "$T/build.html" 'a.chg')"
eq "build page: changes listed" "$nc" "$(grep -o '<li id="chg-' "$T/build.html" | wc -l)"
has "build page: outcome" '>FAILED</span>' "$T/build.html"
has "build page: tip for hover/focus" 'id="tip"' "$T/build.html"
shot build "$MAIN/builds/$FU"

# ---- interaction through the DevTools protocol: Tab to a tick, its call in #tip; filters ----
if command -v node >/dev/null 2>&1; then
  cdp_ud=$(mktemp -d "$T/cdp.XXXXXX")
  "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$cdp_ud" --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 \
    about:blank 2>>"$T/chrome.log" &
  cdp_pid=$!
  cleanup_hooks+=("kill $cdp_pid")
  for _ in $(seq 100); do [ -s "$cdp_ud/DevToolsActivePort" ] && break; sleep 0.1; done
  cdp_port=$(head -1 "$cdp_ud/DevToolsActivePort" 2>/dev/null)
  cdp() { timeout 90 node --experimental-websocket "$HERE/cdp.mjs" "$cdp_port" "$1" 2>>"$T/chrome.log"; }
  cdp "$MAIN/builds/$FU" > "$T/cdp.json" || bad "cdp: $(tail -3 "$T/chrome.log")"
  eq "keyboard: Tab reaches a tick" true "$(jq -r .focusable "$T/cdp.json")"
  first=$(jq -r '[.Events[] | select(.Kind == "call")][0].EventName' "$T/f.json")
  contains "focus on a tick shows its call" "$first" "$(jq -r .tip "$T/cdp.json")"
  contains "focus on an error tick shows the error" "AccessDenied" "$(jq -r .errTip "$T/cdp.json")"
  eq "calls table: every call" "$calls" "$(jq -r .rows "$T/cdp.json")"
  eq "calls table: errors only" "$errs" "$(jq -r .errRows "$T/cdp.json")"
  svc=$(jq -r '.svcRows[0]' "$T/cdp.json")
  eq "calls table: one service" "$(jq --arg s "$svc" '[.Events[] | select(.Kind == "call" and .EventSource == $s)] | length' "$T/f.json")" \
     "$(jq -r '.svcRows[1]' "$T/cdp.json")"
  cdp "$MAIN/builds/$XU" > "$T/cdp.json" || bad "cdp (payloads)"
  eq "payload page: no payload ran (DevTools)" null "$(jq -r .pwned "$T/cdp.json")"
  eq "payload page: the tick still works" true "$(jq -r .focusable "$T/cdp.json")"
else
  echo "note: node not installed, the DevTools checks are skipped"
fi

# ---- events search ---------------------------------------------------------------------
dom "$MAIN/events?build=$FU&errors=1&n=500" "$T/events.html"
eq "events: the build's failed calls" "$("$BT" search --store "$S" --build "$FU" --errors -o json --query 'length(Events)')" \
   "$(count "$T/events.html" 'details')"
eq "api/events: same events as search" "$("$BT" search --store "$S" --build "$FU" --errors -o json --query 'Events[].EventId' | jq -c .)" \
   "$(curl -s "$MAIN/api/events?build=$FU&errors=1&n=500" | jq -c '[.Events[].EventId]')"
p1=$(curl -s "$MAIN/api/events?n=7" | jq -r .NextToken)
eq "api/events: paging continues where it stopped" "$("$BT" search --store "$S" --max-items 14 -o json --query 'Events[7:].EventId' | jq -c .)" \
   "$(curl -s "$MAIN/api/events?n=7&after=$p1" | jq -c '[.Events[].EventId]')"
shot events "$MAIN/events?build=$FU"

# ---- payloads render inert ---------------------------------------------------------------
for page in "/builds/$XU" "/events?build=$XU" "/events?username=mallory" "/?trigger=user" "/?project=xss"; do
  dom "$MAIN$page" "$T/x.html"
  python3 "$HERE/dom_check.py" inert "$T/x.html" /static/web.js > "$T/inert" && ok || bad "$page not inert: $(head -5 "$T/inert")"
done
dom "$MAIN/builds/$XU" "$T/x.html"
has "payload shown as text" "&lt;script&gt;document.documentElement" "$T/x.html"
"$BT" build --store "$S" "$XU" --output html > "$T/report-xss.html" || bad "build --output html (payloads)"
dom "file://$T/report-xss.html" "$T/x.html"
python3 "$HERE/dom_check.py" inert "$T/x.html" "" > "$T/inert" && ok || bad "report not inert: $(head -5 "$T/inert")"
hdr=$(curl -s -D - -o /dev/null "$MAIN/builds/$XU")
contains "strict CSP" "Content-Security-Policy: default-src 'none'; script-src 'self'" "$hdr"
contains "nosniff" "X-Content-Type-Options: nosniff" "$hdr"

# ---- the standalone report -----------------------------------------------------------------
"$BT" build --store "$S" "$FU" --output html > "$ART/report.html" || bad "build --output html"
grep -q 'src="http\|href="http\|/static/' "$ART/report.html" && bad "report refers to the network" || ok
dom "file://$ART/report.html" "$T/r.html"
python3 "$HERE/dom_check.py" inert "$T/r.html" "" > "$T/inert" && ok || bad "report: $(head -5 "$T/inert")"
eq "report: error ticks" "$errs" "$(count "$T/r.html" 'a.tk.err')"
status "build --output html --query: usage" 2 "$BT" build --store "$S" "$FU" --output html --query Errors

# ---- /api/builds/<id> is the CLI's JSON, byte for byte, for every build ---------------------
curl -s "$MAIN/api/builds" > "$T/api-builds.json"
"$BT" builds --store "$S" --output json > "$T/cli-builds.json"
cmp -s "$T/api-builds.json" "$T/cli-builds.json" && ok || bad "/api/builds differs from builds --output json"
nb=0
for u in $(jq -r '.Builds[].Uuid' "$T/cli-builds.json"); do
  curl -s "$MAIN/api/builds/$u" > "$T/a.json"
  "$BT" build --store "$S" "$u" --output json > "$T/c.json"
  if cmp -s "$T/a.json" "$T/c.json"; then nb=$((nb + 1)); else bad "/api/builds/$u differs from build --output json"; fi
done
[ "$nb" -ge 50 ] && ok || bad "only $nb builds compared"
eq "api: unknown build" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$MAIN/api/builds/00000000-0000-4000-8000-00000000dead")"
# ---- short build ids, as `build 288088e1`: a unique prefix redirects to the build's page,
# an ambiguous one lists the candidates, linked ----------------------------------------------
FP=$(jq -r .Build.Project "$T/f.json")
loc() { curl -s -o /dev/null -D - "$1" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p'; }
eq "short id: redirect" 302 "$(curl -s -o /dev/null -w '%{http_code}' "$MAIN/builds/${FU:0:8}")"
eq "short id: to the build's page" "/builds/$FU" "$(loc "$MAIN/builds/${FU:0:8}")"
eq "project:short id: to the build's page" "/builds/$FU" "$(loc "$MAIN/builds/$FP:${FU:0:8}")"
eq "short id, upper case" "/builds/$FU" "$(loc "$MAIN/builds/$(tr a-f A-F <<<"${FU:0:8}")")"
eq "api: short id" "/api/builds/$FU" "$(loc "$MAIN/api/builds/${FU:0:8}")"
eq "short id: the page it leads to" 200 "$(curl -s -L -o /dev/null -w '%{http_code}' "$MAIN/builds/${FU:0:8}")"
eq "ambiguous: 300 Multiple Choices" 300 "$(curl -s -o "$T/amb.html" -w '%{http_code}' "$MAIN/builds/288088e1")"
has "ambiguous: candidate 1 linked" "<a href=\"/builds/$AU1\">" "$T/amb.html"
has "ambiguous: candidate 2 linked" "<a href=\"/builds/$AU2\">" "$T/amb.html"
has "ambiguous: says so" "2 builds start with" "$T/amb.html"
eq "ambiguous: no redirect" "" "$(loc "$MAIN/builds/288088e1")"
eq "longer prefix: the one build" "/builds/$AU2" "$(loc "$MAIN/builds/288088e1-9")"
eq "api: ambiguous lists the builds" "$(printf '%s\n' $AU1 $AU2)" \
   "$(curl -s "$MAIN/api/builds/288088e1" | jq -r '.Builds[]' | sort)"
eq "short id: none starts with it" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$MAIN/builds/ffff0000")"
dom "$MAIN/builds/288088e1" "$T/amb-dom.html"
eq "ambiguous: the browser shows the candidates" 1 "$(count "$T/amb-dom.html" '#candidates')"
eq "ambiguous: both builds linked in the browser" 2 "$(grep -oE "<a href=\"/builds/($AU1|$AU2)\">" "$T/amb-dom.html" | sort -u | wc -l)"
python3 "$HERE/dom_check.py" inert "$T/amb-dom.html" /static/web.js > "$T/inert" && ok || bad "candidates page not inert: $(head -5 "$T/inert")"
eq "GET of an unknown page: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$MAIN/nope")"

# ---- the UI token -------------------------------------------------------------------------
printf 'correct-horse-battery-staple-42\n' > "$T/token"
chmod 600 "$T/token"
start_server tok --ui-token "$T/token"
TOK=$URL
eq "token: redirect to the login" 303 "$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' "$TOK/builds/$FU")"
contains "token: login keeps where to go" "Location: /login?next=%2Fbuilds%2F$FU" "$(tr -d '\r' < "$T/h")"
eq "token: API without it" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$TOK/api/builds")"
code=$(curl -s -o "$T/login.html" -D "$T/h" -w '%{http_code}' --data-urlencode 'token=wrong-token-wrong-token' "$TOK/login")
eq "token: wrong token rejected" 403 "$code"
grep -qi '^set-cookie' "$T/h" && bad "token: a cookie for a wrong token" || ok
has "token: says so" "That token is not right." "$T/login.html"
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' --data-urlencode "token=$(head -1 "$T/token")" \
       --data-urlencode "next=/builds/$FU" "$TOK/login")
eq "token: right token accepted" 303 "$code"
cookie=$(tr -d '\r' < "$T/h" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\);.*/\1/p')
contains "token: HttpOnly" "HttpOnly" "$(grep -i '^set-cookie' "$T/h")"
contains "token: SameSite=Strict" "SameSite=Strict" "$(grep -i '^set-cookie' "$T/h")"
grep -qi "^set-cookie:.*$(head -1 "$T/token")" "$T/h" && bad "token: the cookie holds the token" || ok
eq "token: page with the cookie" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$TOK/builds/$FU")"
eq "token: a forged cookie" 303 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: bt_session=$(printf '%064d' 0)" "$TOK/")"
eq "token: API with Bearer" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(head -1 "$T/token")" "$TOK/api/builds")"
dom "$TOK/" "$T/login-dom.html"
has "token: the browser lands on the login form" 'name="token"' "$T/login-dom.html"
has "token: login page" "Sign in" "$T/login-dom.html"
contains "token: the LookupEvents API still answers" '"Events"' \
  "$(curl -s -X POST "$TOK/" -H 'X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' -d '{"MaxResults":1}')"

# ---- HTTPS -------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$T/key.pem" \
  -out "$T/cert.pem" >/dev/null 2>&1 || bad "openssl"
chmod 600 "$T/key.pem"
start_server tls --ui-token "$T/token" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
contains "tls: https URL" "https://127.0.0.1:" "$URL"
eq "tls: login page over HTTPS" 200 "$(curl -sk -o /dev/null -w '%{http_code}' "$URL/login")"
curl -sk -o /dev/null -D "$T/h" --data-urlencode "token=$(head -1 "$T/token")" "$URL/login"
contains "tls: Secure cookie" "Secure" "$(grep -i '^set-cookie' "$T/h")"
eq "tls: no plain HTTP" 000 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${URL/https/http}/login")"

# ---- off loopback -------------------------------------------------------------------------
status "off loopback without token, auth and TLS: refused" 2 "$BT" serve --store "$S" --port 0 --listen 0.0.0.0
has "off loopback: says what is needed" "--ui-token, --auth and --tls-cert" "$T/.err"
status "tls-cert without tls-key: usage" 2 "$BT" serve --store "$S" --port 0 --tls-cert "$T/cert.pem"
printf 'short\n' > "$T/short"
status "a short token: usage" 2 "$BT" serve --store "$S" --port 0 --ui-token "$T/short"
echo "artifacts: $ART"
finish
