#!/usr/bin/env bash
# it_format_parity.sh - byte-for-byte parity of buildtrail's output formats with the
# real AWS CLI v2 (Debian's /usr/bin/aws and its Python): every case of
# format/cases.list is printed by the CLI's own formatter classes (format/ref.py)
# and by bt-fmtdriver, and the bytes and the success/failure status must match.
# Then ISO 8601 timestamps (bt_format_iso8601_local vs botocore's parse_timestamp
# + isoformat) under several TZ values, and a fixed-seed randomised run
# (format/fuzz_parity.py).
#
# Environment: BT_BIN_DIR (build dir, holds bt-fmtdriver), BT_SOURCE_DIR.
# Exit 0 all passed, 1 any difference (a diff is printed), 77 AWS CLI missing.
set -u

PY=/usr/bin/python3
AWS=/usr/bin/aws
if [ ! -x "$AWS" ] || ! "$PY" -c 'import awscli.formatter, awscli.table, ruamel.yaml' 2>/dev/null; then
    echo "skip: the AWS CLI v2 ($AWS with its Python package awscli) is not installed"
    exit 77
fi
: "${BT_BIN_DIR:?BT_BIN_DIR must name the build directory}"
: "${BT_SOURCE_DIR:?BT_SOURCE_DIR must name the source directory}"
DRIVER="$BT_BIN_DIR/bt-fmtdriver"
DIR="$BT_SOURCE_DIR/tests/integration/format"
if [ ! -x "$DRIVER" ]; then
    echo "it_format_parity: $DRIVER not built" >&2
    exit 1
fi

export TZ=UTC
export LC_ALL=C.UTF-8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0

report_diff() { # name expected-file got-file
    echo "FAIL: $1"
    diff -u --label "aws $1" --label "buildtrail $1" "$2" "$3" | head -60 | cat -A | sed 's/\$$//'
}

# ---- the corpus ----
n=0
: >"$tmp/jobs"
while read -r name fmt width title; do
    case "$name" in '' | '#'*) continue ;; esac
    n=$((n + 1))
    printf '%s\t%s\t%s\t%s\t%s\n' "c$n" "$fmt" "${title:-LookupEvents}" "${width:-80}" \
        "$DIR/cases/$name.json" >>"$tmp/jobs"
    printf '%s\t%s %s %s %s\n' "c$n" "$name" "$fmt" "${width:-80}" "${title:-LookupEvents}" \
        >>"$tmp/names"
done <"$DIR/cases.list"

if ! "$PY" "$DIR/ref.py" --batch "$tmp" <"$tmp/jobs" 2>"$tmp/ref.err"; then
    echo "it_format_parity: the AWS CLI reference run failed:" >&2
    cat "$tmp/ref.err" >&2
    exit 1
fi

while IFS=$'\t' read -r id fmt title width path; do
    label=$(grep -P "^$id\t" "$tmp/names" | cut -f2)
    args=(--output "${fmt#pages-}" --title "$title" --width "$width")
    case "$fmt" in pages-*) args+=(--pages) ;; esac
    if "$DRIVER" "${args[@]}" <"$path" >"$tmp/$id.got" 2>"$tmp/$id.err"; then
        rc=0
    else
        rc=1
    fi
    want_rc=$(cat "$tmp/$id.rc")
    if cmp -s "$tmp/$id.out" "$tmp/$id.got" && [ "$rc" = "$want_rc" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        report_diff "$label" "$tmp/$id.out" "$tmp/$id.got"
        [ "$rc" = "$want_rc" ] || echo "  status: aws $want_rc, buildtrail $rc ($(cat "$tmp/$id.err"))"
    fi
done <"$tmp/jobs"

# ---- timestamps: one case per time zone ----
ts_values="0 1 999 -1 -86400001 1637257262123 1637257262000 1700000000500 1609459199999
1710052200000 1710054000000 1710055800000 1699164000000 1699165800000 1699167600000
1699169400000 1679792400000 1698541200000 1698544800000 1712422800000 1712426400000
946684800000 4102444799000 -2208988800000 1234567890123"
for zone in UTC Asia/Kolkata America/New_York Europe/Dublin Australia/Lord_Howe; do
    # shellcheck disable=SC2086
    TZ=$zone "$PY" "$DIR/ref.py" --ts $ts_values >"$tmp/ts.want" 2>&1
    # shellcheck disable=SC2086
    TZ=$zone "$DRIVER" --ts $ts_values >"$tmp/ts.got" 2>&1
    if cmp -s "$tmp/ts.want" "$tmp/ts.got"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        report_diff "timestamps TZ=$zone" "$tmp/ts.want" "$tmp/ts.got"
    fi
done

# ---- randomised values, fixed seed ----
"$PY" "$DIR/fuzz_parity.py" "$BT_BIN_DIR" 60 7 >"$tmp/fuzz.out" 2>"$tmp/fuzz.err"
summary=$(grep -a '^fuzz: ' "$tmp/fuzz.out" | tail -1)
total=$(echo "$summary" | awk '{print $2}')
bad=$(echo "$summary" | awk '{print $4}')
case "$total$bad" in
'' | *[!0-9]*)
    echo "FAIL: randomised run did not complete"
    tail -n 20 "$tmp/fuzz.out" "$tmp/fuzz.err"
    fail=$((fail + 1))
    ;;
*)
    pass=$((pass + total - bad))
    fail=$((fail + bad))
    [ "$bad" -eq 0 ] || grep -av '^fuzz: ' "$tmp/fuzz.out" | head -120
    ;;
esac

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
