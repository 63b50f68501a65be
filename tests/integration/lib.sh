# lib.sh - helpers for the integration tests: checks that count and report, temp
# dirs cleaned on exit, and the closing "N passed, M failed" line.
set -u
# hermetic: no user configuration file (~/.config/buildtrail/config.toml) applies
export BUILDTRAIL_CONFIG=/dev/null
PASS=0
FAIL=0
T=$(mktemp -d /tmp/bt-it.XXXXXX)
cleanup_hooks=()
on_exit() {
  local h
  for h in "${cleanup_hooks[@]:-}"; do [ -n "$h" ] && eval "$h" >/dev/null 2>&1; done
  rm -rf "$T"
}
trap on_exit EXIT
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
# eq NAME EXPECTED ACTUAL
eq() { if [ "$2" == "$3" ]; then ok; else bad "$1: expected [$2], got [$3]"; fi; }
# ne NAME A B   (values must differ)
ne() { if [ "$2" != "$3" ]; then ok; else bad "$1: both are [$2]"; fi; }
# contains NAME NEEDLE HAYSTACK
contains() { case "$3" in *"$2"*) ok ;; *) bad "$1: [$2] not in [$3]" ;; esac; }
# status NAME EXPECTED_CODE CMD... (runs CMD, compares its exit status)
status() {
  local name=$1 want=$2 got
  shift 2
  "$@" >"$T/.out" 2>"$T/.err"
  got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$name: exit $got, expected $want; stderr: $(head -c 400 "$T/.err")"; fi
}
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
  exit $?
}
need() { command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not installed"; exit 77; }; }
