# moto.sh - sourced by it_watch_sqs.sh and it_watch_faults.sh (after lib.sh, with SRC
# set): process bookkeeping, and start_moto, which starts the machine's moto_server behind
# the project's SigV4-checking wrapper (tests/integration/s3/moto_server.py) on a free
# loopback port, uploads an archive to the bucket "trail" and exports the suite's AWS
# environment (the keys setup.py made; no user configuration).

wait_for() { # SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out
  local end=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done
  return 1
}
PIDS=()
stop_all() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
}
cleanup_hooks+=(stop_all)
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_moto ARCHIVE_DIR SETUP_TIMEOUT: sets MPORT and URL, loads $T/keys (AK, SK)
start_moto() {
  MPORT=$(free_port)
  URL="http://127.0.0.1:$MPORT"
  INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$SRC/tests/integration/s3/moto_server.py" -H 127.0.0.1 \
    -p "$MPORT" >"$T/moto.log" 2>&1 &
  PIDS+=($!)
  wait_for 30 curl -s --max-time 1 -o /dev/null "$URL/moto-api/" || { echo "moto_server did not start"; exit 1; }
  timeout "$2" python3 "$SRC/tests/integration/s3/setup.py" --url "$URL" --keys "$T/keys" \
    --bucket trail --upload "trail::$1" >"$T/setup.log" 2>&1 || { echo "moto setup failed"; cat "$T/setup.log"; exit 1; }
  # shellcheck disable=SC1091
  . "$T/keys"
  export HOME="$T/home" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID="$AK" \
    AWS_SECRET_ACCESS_KEY="$SK" AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
    AWS_ENDPOINT_URL
  mkdir -p "$HOME"
}
# peer COMMAND ARGS...: the SQS/SNS side with boto3 (watch/sqs_peer.py)
peer() { timeout 120 python3 "$SRC/tests/integration/watch/sqs_peer.py" --url "$URL" --keys "$T/keys" "$@"; }
