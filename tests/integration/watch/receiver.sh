# receiver.sh - sourced by the watch suites: start and stop the webhook receiver
# (receiver.py) on loopback. Needs $RECV (receiver.py's path), $T (the suite's temporary
# directory), and the suite's wait_for and bad. Sets RPID and PORT.
RPID=
start_receiver() { # LOG [PORT] [DELAY]
  rm -f "$T/port"
  python3 "$RECV" "$1" "$T/port" --port "${2:-0}" --delay "${3:-0}" &
  RPID=$!
  wait_for 10 test -s "$T/port" || bad "receiver did not start"
  PORT=$(cat "$T/port")
}
stop_receiver() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null; RPID=; }
