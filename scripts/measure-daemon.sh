#!/usr/bin/env bash
# measure-daemon.sh: memory, CPU, broker traffic and shutdown of the real `skimd run` daemon
# against the release `ibkr-sim` (demo market, rate limits enforced), on loopback only.
#
#   scripts/measure-daemon.sh            # builds the release binaries first (a few minutes)
#   SKIP_BUILD=1 scripts/measure-daemon.sh
#
# What it does:
#   1. starts target/release/ibkr-sim --demo-market --enforce-rate-limits on a free port, and
#      (if strace is usable) traces the sim's socket reads/writes to count every request the
#      daemon sends, per route, and every 429 the sim answers;
#   2. starts target/release/skimd run with a temporary database, /healthz on a free port, the
#      trading clock at CLOCK_START (a trading day, 10:06 Sydney, running at real speed) and a
#      schedule built for the measurement: nothing for IDLE_SECS (idle), then scan, alert and
#      track-ranges once, then trade and manage every 2 s for one wall-clock minute (busy),
#      then nothing again (idle after the cycles);
#      ibkr-sim dates its announcements page CLOCK_START's day (--announcements-date);
#   3. samples VmRSS / VmHWM and CPU time from /proc/<pid> every 0.2 s;
#   4. sends SIGTERM and times the exit; prints a summary (also written to SUMMARY_FILE).
# Everything it starts is stopped on exit, also on failure or Ctrl-C.
#
# Settings (environment): SKIP_BUILD=1, IDLE_SECS (default 20), CLOCK_START (default
# 2025-07-01T10:06:00+10:00), KEEP_LOGS=1 (keep the temp dir with the logs),
# SUMMARY_FILE (default /tmp/skim-measure-daemon.txt).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

IDLE_SECS="${IDLE_SECS:-20}"
CLOCK_START="${CLOCK_START:-2025-07-01T10:06:00+10:00}"
SUMMARY_FILE="${SUMMARY_FILE:-/tmp/skim-measure-daemon.txt}"
TZ_EXCHANGE="Australia/Sydney"

tmp="$(mktemp -d /tmp/skim-measure.XXXXXX)"
sim_pid=""
skimd_pid=""
strace_pid=""
sampler_pid=""

stop_pid() {
  local pid="$1" signal="${2:-TERM}"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ -n "$pid" ]]; then
    wait "$pid" 2>/dev/null || true
  fi
}

cleanup() {
  local rc=$?
  stop_pid "$sampler_pid"
  stop_pid "$skimd_pid"
  stop_pid "$strace_pid" INT
  stop_pid "$sim_pid" INT
  if [[ "${KEEP_LOGS:-0}" == "1" ]]; then
    echo "logs kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  echo "measure-daemon: $*" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

now() { date +%s.%N; }

# "sec min hour" of an epoch second in the exchange timezone (the scheduler's timezone).
cron_at() { TZ="$TZ_EXCHANGE" date -d "@$1" '+%-S %-M %-H'; }

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

command -v python3 >/dev/null || die "python3 is needed to pick free ports"
command -v curl >/dev/null || die "curl is needed to poll /healthz"

if [[ "${SKIP_BUILD:-0}" != "1" ]]; then
  cargo build --release -p skimd -p ibkr-sim
fi
[[ -x target/release/skimd && -x target/release/ibkr-sim ]] || die "no release binaries (run without SKIP_BUILD=1)"

# --- the simulator ----------------------------------------------------------------------------
trading_day_iso="$(TZ="$TZ_EXCHANGE" date -d "$CLOCK_START" '+%Y-%m-%d' 2>/dev/null)" ||
  die "CLOCK_START $CLOCK_START is not a date"
sim_port="$(free_port)"
target/release/ibkr-sim --port "$sim_port" --write-env "$tmp/sim.env" --keys-dir "$tmp/keys" \
  --demo-market --enforce-rate-limits --announcements-date "$trading_day_iso" >"$tmp/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 150); do
  if [[ -s "$tmp/sim.env" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$sim_port") 2>/dev/null; then break; fi
  kill -0 "$sim_pid" 2>/dev/null || { cat "$tmp/sim.log" >&2; die "ibkr-sim exited"; }
  sleep 0.2
done
[[ -s "$tmp/sim.env" ]] || { cat "$tmp/sim.log" >&2; die "ibkr-sim did not start on port $sim_port"; }

traced=0
if command -v strace >/dev/null; then
  strace -f -qq -e trace=read,recvfrom,write,writev,sendto -s 160 -o "$tmp/sim.trace" -p "$sim_pid" 2>"$tmp/strace.err" &
  strace_pid=$!
  sleep 1
  if kill -0 "$strace_pid" 2>/dev/null; then traced=1; else strace_pid=""; fi
fi

# --- the announcements page --------------------------------------------------------------------
# The sim dates its page by --announcements-date (CLOCK_START's trading day, set above), so `scan`
# finds its candidates as on that day.
announcements_url="$(grep -m1 '^SKIM_ASX__ANNOUNCEMENTS_URL=' "$tmp/sim.env" | cut -d= -f2-)"

# --- the schedule -----------------------------------------------------------------------------
launch="$(date +%s)"
# The busy minute starts at the first minute boundary that leaves room for the idle window and
# the morning jobs before it.
busy=$(( (launch + 8 + IDLE_SECS + 12 + 59) / 60 * 60 ))
read -r bs bm bh <<<"$(cron_at "$busy")"
[[ "$bs" == "0" ]] || die "internal: busy minute not on a boundary"
read -r s1 m1 h1 <<<"$(cron_at $((busy - 9)))"
read -r s2 m2 h2 <<<"$(cron_at $((busy - 8)))"
read -r s3 m3 h3 <<<"$(cron_at $((busy - 7)))"
never="0 0 0 1 1 *"

# --- the daemon -------------------------------------------------------------------------------
health_port="$(free_port)"
(
  set -a
  # shellcheck disable=SC1091
  . "$tmp/sim.env"
  set +a
  export SKIM_DATABASE__URL="sqlite://$tmp/skim.db"
  export DATABASE_URL="$SKIM_DATABASE__URL"
  export SKIM_HEALTH__PORT="$health_port"
  export SKIM_CLOCK__START="$CLOCK_START"
  export SKIM_ASX__ANNOUNCEMENTS_URL="$announcements_url"
  export SKIM_LOG__FORMAT=compact
  export DISCORD_WEBHOOK_URL=""
  export SKIM_SCHEDULE__PURGE="$never"
  export SKIM_SCHEDULE__EXITS="$never"
  export SKIM_SCHEDULE__SUMMARY="$never"
  export SKIM_SCHEDULE__SCAN="$s1 $m1 $h1 * * *"
  export SKIM_SCHEDULE__ALERT="$s2 $m2 $h2 * * *"
  export SKIM_SCHEDULE__TRACK_RANGES="$s3 $m3 $h3 * * *"
  export SKIM_SCHEDULE__TRADE="*/2 $bm $bh * * *"
  export SKIM_SCHEDULE__MANAGE="*/2 $bm $bh * * *"
  exec target/release/skimd run
) >"$tmp/skimd.log" 2>&1 &
skimd_pid=$!
spawned="$(now)"

healthy_at=""
for _ in $(seq 1 300); do
  if curl -fsS "http://127.0.0.1:$health_port/healthz" >/dev/null 2>&1; then
    healthy_at="$(now)"
    break
  fi
  kill -0 "$skimd_pid" 2>/dev/null || { cat "$tmp/skimd.log" >&2; die "skimd exited during startup"; }
  sleep 0.05
done
[[ -n "$healthy_at" ]] || { cat "$tmp/skimd.log" >&2; die "skimd never became healthy"; }

# --- sampling ---------------------------------------------------------------------------------
idle_from=$((launch + 8))
idle_to=$((busy - 10))
busy_to=$((busy + 62))
after_from=$((busy + 66))
after_to=$((after_from + IDLE_SECS))
(
  while kill -0 "$skimd_pid" 2>/dev/null; do
    printf '%s %s %s %s\n' "$(date +%s)" "$(status_kb "$skimd_pid" VmRSS)" \
      "$(status_kb "$skimd_pid" VmHWM)" "$(cpu_ticks "$skimd_pid")"
    sleep 0.2
  done
) >"$tmp/samples" &
sampler_pid=$!

echo "skimd pid $skimd_pid healthy after $(awk -v a="$spawned" -v b="$healthy_at" 'BEGIN { printf "%.2f", b - a }') s;" \
  "idle until $(date -d "@$idle_to" +%T), busy minute $(date -d "@$busy" +%T)–$(date -d "@$((busy + 59))" +%T), then idle to $(date -d "@$after_to" +%T)" >&2
while (($(date +%s) < after_to)); do
  kill -0 "$skimd_pid" 2>/dev/null || { cat "$tmp/skimd.log" >&2; die "skimd exited while being measured"; }
  sleep 1
done

# --- SIGTERM ----------------------------------------------------------------------------------
term_at="$(now)"
kill -TERM "$skimd_pid"
exit_code=0
wait "$skimd_pid" || exit_code=$?
exited_at="$(now)"
skimd_pid=""
stop_pid "$sampler_pid"
sampler_pid=""
sleep 0.5
stop_pid "$strace_pid" INT
strace_pid=""

# --- summary ----------------------------------------------------------------------------------
window() { # from to -> "median_rss max_rss hwm_at_end cpu_ms samples" (plain POSIX awk)
  local median
  median="$(awk -v from="$1" -v to="$2" '$1 >= from && $1 < to && $2 != "" { print $2 }' "$tmp/samples" |
    sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }')"
  awk -v from="$1" -v to="$2" -v hz="$(getconf CLK_TCK)" -v med="$median" '
    $1 >= from && $1 < to && $2 != "" {
      n++; if ($2 > max) max = $2; hwm = $3
      if (n == 1) c0 = $4
      c1 = $4
    }
    END {
      if (n == 0) { print "- - - - 0"; exit }
      printf "%s %d %d %d %d\n", med, max, hwm, (c1 - c0) * 1000 / hz, n
    }' "$tmp/samples"
}
read -r idle_med idle_max idle_hwm idle_cpu idle_n <<<"$(window "$idle_from" "$idle_to")"
read -r busy_med busy_max busy_hwm busy_cpu busy_n <<<"$(window "$busy" "$busy_to")"
read -r after_med after_max after_hwm after_cpu after_n <<<"$(window "$after_from" "$after_to")"

log="$tmp/skimd.log"
count() { grep -c -- "$1" "$log" || true; }
mb() { awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.1f MiB", k / 1024 }'; }

{
  echo "skimd daemon measurement, $(date -u +%FT%TZ), $(nproc) CPU(s), clock.start $CLOCK_START"
  echo "binary: target/release/skimd $(stat -c %s target/release/skimd) bytes ($(mb $(($(stat -c %s target/release/skimd) / 1024))))"
  echo "startup to healthy /healthz: $(awk -v a="$spawned" -v b="$healthy_at" 'BEGIN { printf "%.2f s", b - a }') (handshake, ssodh/init, init_settle_ms 1000, reconciliation)"
  echo "idle   ($((idle_to - idle_from)) s before the morning jobs): VmRSS median $(mb "$idle_med"), max $(mb "$idle_max"); VmHWM $(mb "$idle_hwm"); CPU ${idle_cpu} ms; ${idle_n} samples"
  echo "busy   (trade + manage every 2 s, one minute): VmRSS median $(mb "$busy_med"), max $(mb "$busy_max"); VmHWM $(mb "$busy_hwm"); CPU ${busy_cpu} ms; ${busy_n} samples"
  echo "after  (${IDLE_SECS}s idle after the cycles): VmRSS median $(mb "$after_med"), max $(mb "$after_max"); VmHWM $(mb "$after_hwm"); CPU ${after_cpu} ms; ${after_n} samples"
  echo "SIGTERM to exit: $(awk -v a="$term_at" -v b="$exited_at" 'BEGIN { printf "%.3f s", b - a }'), exit code $exit_code"
  echo "job runs logged: trade $(count 'job=trade'), manage $(count 'job=manage') (of which skipped as still running: $(count 'previous manage run is still running')), scan $(count 'job=scan'), track-ranges $(count 'job=track-ranges'); errors $(count 'outcome="error"')"
  echo "from skimd's log: handshakes $(count 'live session token obtained'), 'rate limited' backoffs $(count 'rate limited by IBKR'), re-inits $(count 're-initialis'), clean stop logged $(count 'INFO skimd stopped$')"
  if ((traced)); then
    echo "requests the sim received (strace of its socket reads), per route:"
    grep -oE '"(GET|POST|DELETE|PUT) /[^ ?\\"]*' "$tmp/sim.trace" |
      sed -E 's/^"//; s#/v1/api##; s#/[0-9]+#/{id}#g; s#/(DU|U)[0-9A-Z]+#/{acct}#g' |
      sort | uniq -c | sort -rn | sed 's/^/  /'
  echo "  total $(grep -cE '"(GET|POST|DELETE|PUT) /' "$tmp/sim.trace" || true); handshakes (POST /oauth/live_session_token) $(grep -c 'POST /v1/api/oauth/live_session_token' "$tmp/sim.trace" || true); tickles $(grep -c 'POST /v1/api/tickle' "$tmp/sim.trace" || true)"
    echo "  429 answers (rate-limit violations; the sim enforces the limits): $(grep -c 'HTTP/1.1 429' "$tmp/sim.trace" || true); 401 answers: $(grep -c 'HTTP/1.1 401' "$tmp/sim.trace" || true)"
  else
    echo "strace not usable: the sim's request counts are not available (ibkr-sim has no stats endpoint)"
  fi
} | tee "$SUMMARY_FILE"
