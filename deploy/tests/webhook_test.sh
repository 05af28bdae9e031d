#!/usr/bin/env bash
# Tests of deploy/webhook.sh in throwaway git repositories: a bare "origin" and a clone that
# plays /opt/skim, with data/skim.db, .env and oauth_keys/ present and git-ignored. Build,
# restart, health, backup and notify are stubbed through the SKIM_*_CMD overrides; the
# stubs record each call in calls.log so a case can say what ran.
#
# Usage: deploy/tests/webhook_test.sh   (prints one line per case, then "N passed, M failed")
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WEBHOOK="$HERE/../webhook.sh"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.invalid
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# The real environment must not leak into the script under test.
unset DEPLOY_MODE BACKUP_KEEP HEALTH_TIMEOUT FORCE_DEPLOY SKIP_BACKUP DISCORD_WEBHOOK_URL SKIM_DIR \
  SKIM_BUILD_CMD SKIM_BACKUP_CMD SKIM_KEEP_PREV_CMD SKIM_RESTORE_PREV_CMD SKIM_RESTART_CMD \
  SKIM_HEALTH_CMD SKIM_NOTIFY_CMD DEPLOY_LOCK DEPLOY_LOG

PASSED=0
FAILED=0
CASE=""
CASE_ERRORS=()

# --- fixture --------------------------------------------------------------------------------

# new_fixture NAME: $TMP/NAME/{origin.git,work,srv}. srv (the deployed checkout, v1) is one
# commit behind origin (v2). Sets SRV, OLD_SHA, NEW_SHA.
new_fixture() {
  local root="$TMP/$1"
  mkdir -p "$root"
  git init -q --bare -b main "$root/origin.git"
  git init -q -b main "$root/work"
  (
    cd "$root/work"
    mkdir -p deploy data logs oauth_keys
    cp "$WEBHOOK" deploy/webhook.sh && chmod +x deploy/webhook.sh
    printf '%s\n' '/target' '.env' '/bin/' '/data/*' '!/data/.gitkeep' '/logs/*' '!/logs/.gitkeep' \
      '/oauth_keys/*' '!/oauth_keys/.gitkeep' '*.db' >.gitignore
    touch data/.gitkeep logs/.gitkeep oauth_keys/.gitkeep
    echo v1 >app.txt
    git add -A && git commit -q -m v1
    git remote add origin "$root/origin.git"
    git push -q origin main
  )
  git clone -q "$root/origin.git" "$root/srv"
  SRV="$root/srv"
  (
    cd "$SRV"
    head -c 4096 /dev/urandom >data/skim.db
    printf 'some wal bytes' >data/skim.db-wal
    printf 'OAUTH_CONSUMER_KEY=TESTCONS1\nPAPER_TRADING=true\n' >.env
    printf -- '-----BEGIN PRIVATE KEY-----\nsig\n' >oauth_keys/private_signature.pem
    printf -- '-----BEGIN PRIVATE KEY-----\nenc\n' >oauth_keys/private_encryption.pem
    chmod 600 .env oauth_keys/*
    mkdir -p bin && echo "binary v1" >bin/skimd && chmod +x bin/skimd
  )
  OLD_SHA="$(git -C "$SRV" rev-parse HEAD)"
  (
    cd "$root/work"
    echo v2 >app.txt
    # v2 also changes webhook.sh itself (shifting every byte), as real deploys do: the running
    # script must not read the new file half-way through.
    { head -n1 deploy/webhook.sh; printf '# %s\n' "padding line so offsets move" "another one";
      tail -n +2 deploy/webhook.sh; } >deploy/webhook.sh.new && mv deploy/webhook.sh.new deploy/webhook.sh && chmod +x deploy/webhook.sh
    git commit -q -am v2
    git push -q origin main
  )
  NEW_SHA="$(git -C "$root/work" rev-parse HEAD)"
  CALLS="$root/calls.log"
  : >"$CALLS"
}

# Stubs. The build writes the "new binary" from the checked-out app.txt, so the binary tells
# which commit it was built from; health passes only for v1 when HEALTH_OK_ONLY_V1=1.
stub_env() {
  unset SKIM_KEEP_PREV_CMD SKIM_RESTORE_PREV_CMD BACKUP_KEEP
  export DEPLOY_MODE=systemd
  export HEALTH_TIMEOUT=2 HEALTH_INTERVAL=1
  export SKIM_BUILD_CMD="echo build >>'$CALLS'; mkdir -p bin; echo \"binary \$(cat app.txt)\" >bin/skimd.new"
  export SKIM_RESTART_CMD="echo restart >>'$CALLS'"
  export SKIM_HEALTH_CMD="echo health >>'$CALLS'"
  export SKIM_BACKUP_CMD="echo backup >>'$CALLS'; cp data/skim.db"
  export SKIM_NOTIFY_CMD="printf 'notify %s\n' \"\$1\" >>'$CALLS'"
}

# Checksums of everything the deploy must keep: data/ (except backups), .env, oauth_keys/.
state_sum() {
  (cd "$1" && find data .env oauth_keys -path data/backups -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum)
}

run_webhook() { # runs the deployed copy, as the webhook tool would; output in $OUT, status in $RC
  RC=0
  OUT="$(cd "$SRV" && bash deploy/webhook.sh 2>&1)" || RC=$?
}

count() { grep -c "^$1\$" "$CALLS" || true; }

# --- assertions -----------------------------------------------------------------------------

check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if ! "$@"; then
    CASE_ERRORS+=("$what")
  fi
}
eq() { [[ "$1" == "$2" ]] || { echo "      expected [$2], got [$1]" >&2; return 1; }; }
contains() { [[ "$1" == *"$2"* ]] || { echo "      [$2] not in output" >&2; return 1; }; }

start_case() {
  CASE="$1"
  CASE_ERRORS=()
}
end_case() {
  if ((${#CASE_ERRORS[@]} == 0)); then
    PASSED=$((PASSED + 1))
    echo "ok   - $CASE"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL - $CASE: ${CASE_ERRORS[*]}"
    printf '      webhook output:\n        %s\n' "${OUT//$'\n'/$'\n'        }"
  fi
}

# --- cases ----------------------------------------------------------------------------------

case_success() {
  start_case "successful deploy moves to the new commit and keeps data, .env and keys"
  new_fixture success
  stub_env
  local before after
  before="$(state_sum "$SRV")"
  run_webhook
  after="$(state_sum "$SRV")"
  check "exit 0" eq "$RC" 0
  check "at new commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$NEW_SHA"
  check "data/.env/oauth_keys byte-identical" eq "$after" "$before"
  local backups
  backups="$(find "$SRV/data/backups" -type f | wc -l)"
  check "exactly one backup" eq "$backups" 1
  local b
  b="$(find "$SRV/data/backups" -type f -name "skim-*-$(git -C "$SRV" rev-parse --short "$OLD_SHA").db" | head -n1)"
  check "backup named skim-<UTC>-<old sha>.db" test -n "$b"
  check "backup is a copy of the database" cmp -s "${b:-/nonexistent}" "$SRV/data/skim.db"
  check "new binary installed" eq "$(cat "$SRV/bin/skimd")" "binary v2"
  check "previous binary kept" eq "$(cat "$SRV/bin/skimd.prev")" "binary v1"
  check "build, backup, restart once each" eq "$(count build)$(count backup)$(count restart)" 111
  check "build before restart" eq "$(grep -m1 -n -E '^(build|restart)$' "$CALLS" | cut -d: -f2)" build
  check "notified" contains "$(cat "$CALLS")" "notify skim: deployed"
  check "log file written" test -s "$SRV/logs/deploy.log"
  check "log lines have timestamps" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z deploy: ' "$SRV/logs/deploy.log"
  end_case
}

case_failed_build() {
  start_case "failed build leaves the old version running"
  new_fixture build
  stub_env
  export SKIM_BUILD_CMD="echo build >>'$CALLS'; echo 'error[E0308]: mismatched types' >&2; exit 101"
  local before
  before="$(state_sum "$SRV")"
  run_webhook
  check "exit non-zero" test "$RC" -ne 0
  check "checkout back at the old commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$OLD_SHA"
  check "restart never called" eq "$(count restart)" 0
  check "no backup taken" eq "$(count backup)" 0
  check "old binary untouched" eq "$(cat "$SRV/bin/skimd")" "binary v1"
  check "no half-installed binary" test ! -e "$SRV/bin/skimd.new"
  check "data/.env/oauth_keys byte-identical" eq "$(state_sum "$SRV")" "$before"
  check "build error in the output" contains "$OUT" "mismatched types"
  check "notified" contains "$(cat "$CALLS")" "build failed"
  end_case
}

case_failed_health() {
  start_case "failed health check rolls back to the previous commit and binary"
  new_fixture health
  stub_env
  # Healthy only when the checkout is v1 again.
  export SKIM_HEALTH_CMD="echo health >>'$CALLS'; grep -qx v1 app.txt"
  local before
  before="$(state_sum "$SRV")"
  run_webhook
  check "exit non-zero" test "$RC" -ne 0
  check "checkout at the previous commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$OLD_SHA"
  check "restart called twice" eq "$(count restart)" 2
  check "previous binary restored" eq "$(cat "$SRV/bin/skimd")" "binary v1"
  check "output says rolled back" contains "$OUT" "rolled back"
  check "notification says rolled back" contains "$(cat "$CALLS")" "rolled back to"
  check "data/.env/oauth_keys byte-identical" eq "$(state_sum "$SRV")" "$before"
  end_case
}

case_rollback_unhealthy() {
  start_case "a rollback that is not healthy either exits 2 and says so"
  new_fixture unhealthy
  stub_env
  export SKIM_HEALTH_CMD="echo health >>'$CALLS'; false"
  run_webhook
  check "exit 2" eq "$RC" 2
  check "checkout at the previous commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$OLD_SHA"
  check "output says not healthy" contains "$OUT" "NOT healthy"
  end_case
}

case_pause() {
  start_case "PAUSE_DEPLOY stops the deploy"
  new_fixture pause
  stub_env
  touch "$SRV/PAUSE_DEPLOY"
  local before
  before="$(state_sum "$SRV")"
  run_webhook
  check "exit 0" eq "$RC" 0
  check "still at the old commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$OLD_SHA"
  check "nothing called" eq "$(wc -l <"$CALLS")" 0
  check "no backups" test ! -e "$SRV/data/backups"
  check "data/.env/oauth_keys byte-identical" eq "$(state_sum "$SRV")" "$before"
  check "output mentions PAUSE_DEPLOY" contains "$OUT" "PAUSE_DEPLOY"
  end_case
}

case_lock() {
  start_case "a second concurrent deploy exits without deploying"
  new_fixture lock
  stub_env
  # The first deploy's build takes a while; the second starts while it runs.
  export SKIM_BUILD_CMD="echo build >>'$CALLS'; sleep 3; mkdir -p bin; echo \"binary \$(cat app.txt)\" >bin/skimd.new"
  local first_out="$TMP/lock/first.out" first_rc=0
  (cd "$SRV" && bash deploy/webhook.sh) >"$first_out" 2>&1 &
  local first_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q '^build$' "$CALLS" && break
    sleep 0.1
  done
  run_webhook
  local second_rc="$RC" second_out="$OUT"
  wait "$first_pid" || first_rc=$?
  OUT="$second_out"
  check "second exits 0" eq "$second_rc" 0
  check "second says a deploy is running" contains "$second_out" "another deploy is running"
  check "first deploy succeeded" eq "$first_rc" 0
  check "only one build" eq "$(count build)" 1
  check "only one restart" eq "$(count restart)" 1
  check "at new commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$NEW_SHA"
  end_case
}

case_prune() {
  start_case "backups are pruned to BACKUP_KEEP, manual backups kept"
  new_fixture prune
  stub_env
  export BACKUP_KEEP=3
  mkdir -p "$SRV/data/backups"
  local d
  for d in 01 02 03 04 05; do
    echo old >"$SRV/data/backups/skim-202001${d}T000000Z-abcdef0.db"
  done
  echo manual >"$SRV/data/backups/manual-20200101T000000Z.db"
  run_webhook
  unset BACKUP_KEEP
  local left
  left="$(cd "$SRV/data/backups" && find . -maxdepth 1 -name 'skim-*.db' -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')"
  check "exit 0" eq "$RC" 0
  check "three deploy backups left" eq "$(wc -w <<<"$left")" 3
  check "the oldest ones went" eq "${left%% *}" "skim-20200104T000000Z-abcdef0.db"
  check "the new one kept" contains "$left" "-$(git -C "$SRV" rev-parse --short "$OLD_SHA").db"
  check "manual backup kept" test -f "$SRV/data/backups/manual-20200101T000000Z.db"
  end_case
}

case_up_to_date() {
  start_case "nothing to deploy when already at origin/main"
  new_fixture uptodate
  stub_env
  git -C "$SRV" pull -q --ff-only
  run_webhook
  check "exit 0" eq "$RC" 0
  check "nothing called" eq "$(wc -l <"$CALLS")" 0
  check "output says nothing to deploy" contains "$OUT" "nothing to deploy"
  end_case
}

case_compose_mode() {
  start_case "compose mode: keeps the previous image and restores it on rollback"
  new_fixture compose
  stub_env
  export DEPLOY_MODE=compose
  export SKIM_KEEP_PREV_CMD="echo keep-prev >>'$CALLS'"
  export SKIM_RESTORE_PREV_CMD="echo restore-prev >>'$CALLS'"
  export SKIM_HEALTH_CMD="echo health >>'$CALLS'; grep -qx v1 app.txt"
  run_webhook
  check "exit 1 (rolled back)" eq "$RC" 1
  check "previous image kept once" eq "$(count keep-prev)" 1
  check "previous image restored" eq "$(count restore-prev)" 1
  check "restart twice" eq "$(count restart)" 2
  check "binary files untouched in compose mode" eq "$(cat "$SRV/bin/skimd")" "binary v1"
  end_case
}

case_tracked_runtime_files() {
  start_case "a commit that tracks .env is refused before anything changes"
  new_fixture tracked
  stub_env
  (cd "$TMP/tracked/work" && echo 'OAUTH_CONSUMER_KEY=LEAKED' >.env && git add -f .env &&
    git commit -q -m "oops" && git push -q origin main)
  local before
  before="$(state_sum "$SRV")"
  run_webhook
  check "exit non-zero" test "$RC" -ne 0
  check "still at the old commit" eq "$(git -C "$SRV" rev-parse HEAD)" "$OLD_SHA"
  check ".env untouched" eq "$(state_sum "$SRV")" "$before"
  check "nothing built" eq "$(count build)" 0
  end_case
}

case_success
case_failed_build
case_failed_health
case_rollback_unhealthy
case_pause
case_lock
case_prune
case_up_to_date
case_compose_mode
case_tracked_runtime_files

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
