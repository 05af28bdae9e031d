#!/usr/bin/env bash
# skim gitops deploy: bring /opt/skim to origin/main, build, back up, restart, check health,
# roll back on failure. Run by the `webhook` tool on a push to main (deploy/hooks.json), by
# `just deploy`, or by hand.
#
# Invariants (the reason this script exists; the Python original broke them):
#   * data/, logs/, oauth_keys/ and .env are never deleted, moved or recreated. They are
#     git-ignored, so `git reset --hard` leaves them alone; `git clean` is never run.
#   * The new version is built BEFORE the running daemon is touched: a failed build leaves
#     the old version running and the checkout back at the old commit.
#   * The database is backed up (skimd backup, consistent while the daemon runs) before
#     every restart; the last BACKUP_KEEP backups are kept.
#   * A new version that is not healthy within HEALTH_TIMEOUT seconds is rolled back to the
#     previous commit and binary (systemd) or image (compose), and the notification says so.
#
# Settings (environment, or KEY=value lines in deploy/deploy.env; the environment wins):
#   DEPLOY_MODE      systemd (default) | compose
#   DEPLOY_REMOTE    git remote to deploy from (default origin)
#   DEPLOY_BRANCH    branch to deploy (default main)
#   BACKUP_KEEP      deploy backups to keep in data/backups (default 10)
#   HEALTH_TIMEOUT   seconds to wait for `skimd healthcheck` to pass (default 120)
#   HEALTH_INTERVAL  seconds between health polls (default 3)
#   FORCE_DEPLOY=1   rebuild and restart even if already at the target commit
#   SKIP_BACKUP=1    deploy even though the database backup failed (not recommended)
#   SKIM_DIR         the checkout (default: the folder above this script, i.e. /opt/skim)
#   SKIM_DB_FILE     database file, for "is there anything to back up" (default data/skim.db)
#   DISCORD_WEBHOOK_URL  notification target (default: the value in .env, if any)
# Every external step can be replaced (tests stub them; you may too). Each is a bash command
# string run in SKIM_DIR; arguments are passed as "$1"...:
#   SKIM_BUILD_CMD         build the new version (systemd: must leave bin/skimd.new)
#   SKIM_BACKUP_CMD        back up the database to "$1"
#   SKIM_KEEP_PREV_CMD     remember the running version for rollback
#   SKIM_RESTORE_PREV_CMD  put the remembered version back
#   SKIM_RESTART_CMD       (re)start the daemon
#   SKIM_HEALTH_CMD        exit 0 when the daemon is healthy
#   SKIM_NOTIFY_CMD        send "$1" somewhere (default: Discord, if configured)
#
# Exit status: 0 deployed, nothing to do, paused or another deploy running;
#              1 deploy failed and the previous version is running (rolled back or untouched);
#              2 deploy failed and the rollback did not come back healthy: look now.
#
# Everything is inside main() so bash has parsed the whole file before `git reset` replaces it.

set -euo pipefail

main() {
  local script_dir
  script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  REPO="${SKIM_DIR:-$(cd "$script_dir/.." && pwd)}"
  cd "$REPO"

  mkdir -p logs
  LOG_FILE="${DEPLOY_LOG:-$REPO/logs/deploy.log}"
  if ! { : >>"$LOG_FILE"; } 2>/dev/null; then
    echo "deploy: cannot write $LOG_FILE; logging to stdout only" >&2
    LOG_FILE=/dev/null
  fi

  load_settings "$REPO/deploy/deploy.env"
  DEPLOY_MODE="${DEPLOY_MODE:-systemd}"
  DEPLOY_REMOTE="${DEPLOY_REMOTE:-origin}"
  DEPLOY_BRANCH="${DEPLOY_BRANCH:-main}"
  BACKUP_KEEP="${BACKUP_KEEP:-10}"
  HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
  HEALTH_INTERVAL="${HEALTH_INTERVAL:-3}"
  SKIM_DB_FILE="${SKIM_DB_FILE:-data/skim.db}"
  # The webhook service starts with a bare PATH; cargo lives in the deploying user's home.
  PATH="${HOME:-/nonexistent}/.cargo/bin:/usr/local/bin:/usr/bin:/bin:${PATH}"

  if [[ -e "$REPO/PAUSE_DEPLOY" ]]; then
    log "PAUSE_DEPLOY is present in $REPO: not deploying (remove the file to resume deploys)"
    return 0
  fi

  case "$DEPLOY_MODE" in
    systemd | compose) ;;
    *)
      log "DEPLOY_MODE must be systemd or compose, not '$DEPLOY_MODE' (set it in deploy/deploy.env)"
      return 1
      ;;
  esac
  [[ "$BACKUP_KEEP" =~ ^[1-9][0-9]*$ ]] || { log "BACKUP_KEEP must be a positive whole number, not '$BACKUP_KEEP'"; return 1; }
  [[ "$HEALTH_TIMEOUT" =~ ^[0-9]+$ ]] || { log "HEALTH_TIMEOUT must be whole seconds, not '$HEALTH_TIMEOUT'"; return 1; }

  # One deploy at a time. The lock lives in .git (never deployed, never served) and is
  # released by the kernel when this process exits, however it exits.
  local lock_file="${DEPLOY_LOCK:-$REPO/.git/skim-deploy.lock}"
  exec 9>>"$lock_file"
  if ! flock -n 9; then
    log "another deploy is running (lock $lock_file is held): not deploying now"
    return 0
  fi

  set_default_commands

  local old_sha new_sha old_short new_short
  old_sha="$(git rev-parse HEAD)"
  old_short="$(git rev-parse --short HEAD)"
  log "deploy ($DEPLOY_MODE) starting; running $old_short"

  if ! git fetch --quiet "$DEPLOY_REMOTE" "+refs/heads/$DEPLOY_BRANCH:refs/remotes/$DEPLOY_REMOTE/$DEPLOY_BRANCH" 2>&1 | log_stream; then
    finish 1 "deploy failed: git fetch from $DEPLOY_REMOTE failed; still running $old_short"
    return
  fi
  new_sha="$(git rev-parse "refs/remotes/$DEPLOY_REMOTE/$DEPLOY_BRANCH")"
  new_short="$(git rev-parse --short "$new_sha")"

  if [[ "$new_sha" == "$old_sha" && "${FORCE_DEPLOY:-0}" != "1" ]]; then
    log "already at $old_short ($DEPLOY_REMOTE/$DEPLOY_BRANCH): nothing to deploy"
    return 0
  fi

  # The runtime folders must stay untracked, or `git reset --hard` could overwrite them.
  local tracked
  tracked="$(git ls-tree -r --name-only "$new_sha" -- data logs oauth_keys .env | grep -v '/\.gitkeep$' || true)"
  if [[ -n "$tracked" ]]; then
    finish 1 "deploy of $new_short refused: it tracks runtime files that a checkout would overwrite: $(echo "$tracked" | tr '\n' ' ')— still running $old_short"
    return
  fi

  save_local_changes

  log "checking out $new_short (was $old_short)"
  if ! git reset --quiet --hard "$new_sha" 2>&1 | log_stream; then
    git reset --quiet --hard "$old_sha" || true
    finish 1 "deploy of $new_short failed: could not check it out; still running $old_short"
    return
  fi

  # 1. Build while the old version keeps running.
  rm -f bin/skimd.new
  log "building $new_short"
  if ! run_step build "$SKIM_BUILD_CMD"; then
    git reset --quiet --hard "$old_sha"
    rm -f bin/skimd.new
    finish 1 "deploy of $new_short failed: build failed; still running $old_short (checkout back at $old_short)"
    return
  fi

  # 2. Back up the database (the running daemon makes the copy, so it is consistent).
  if ! backup_database "$old_short"; then
    if [[ "${SKIP_BACKUP:-0}" != "1" ]]; then
      git reset --quiet --hard "$old_sha"
      rm -f bin/skimd.new
      finish 1 "deploy of $new_short stopped: database backup failed; still running $old_short (set SKIP_BACKUP=1 to deploy anyway)"
      return
    fi
    log "database backup failed; continuing because SKIP_BACKUP=1"
  fi

  # 3. Remember the running version, put the new one in place, restart.
  if ! run_step keep-previous "$SKIM_KEEP_PREV_CMD"; then
    log "could not keep the previous version: a rollback may not be possible"
  fi
  install_new_binary
  log "restarting skimd on $new_short"
  local restarted=1
  run_step restart "$SKIM_RESTART_CMD" || restarted=0

  # 4. Healthy within HEALTH_TIMEOUT, or roll back.
  if ((restarted)) && wait_healthy; then
    finish 0 "deployed $new_short (was $old_short): healthy"
    return
  fi

  local why="not healthy within ${HEALTH_TIMEOUT}s"
  ((restarted)) || why="restart failed"
  log "$new_short is $why: rolling back to $old_short"
  git reset --quiet --hard "$old_sha"
  if ! run_step restore-previous "$SKIM_RESTORE_PREV_CMD"; then
    log "could not restore the previous binary/image"
  fi
  if run_step restart "$SKIM_RESTART_CMD" && wait_healthy; then
    finish 1 "deploy of $new_short failed ($why): rolled back to $old_short, which is healthy"
  else
    finish 2 "deploy of $new_short failed ($why): rolled back to $old_short, but it is NOT healthy either — check journalctl -u skimd / docker compose logs now; database backup in data/backups"
  fi
}

# KEY=value lines from deploy/deploy.env, for keys not already set in the environment.
# Parsed, not sourced: the file is data, not code.
load_settings() {
  local file="$1" line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z "$line" || "$line" == \#* ]] && continue
    line="${line#export }"
    key="${line%%=*}"
    value="${line#*=}"
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ && "$line" == *=* ]] || continue
    value="${value%\"}"; value="${value#\"}"
    value="${value%\'}"; value="${value#\'}"
    if [[ -z "${!key+set}" ]]; then
      export "$key=$value"
    fi
  done <"$file"
}

set_default_commands() {
  local sudo=""
  ((EUID == 0)) || sudo="sudo -n "
  local compose="docker compose -f docker/docker-compose.yml"
  local image="${SKIM_IMAGE:-skim}"
  if [[ "$DEPLOY_MODE" == systemd ]]; then
    : "${SKIM_BUILD_CMD:=cargo build --release --locked -p skimd && mkdir -p bin && install -m 0755 target/release/skimd bin/skimd.new}"
    : "${SKIM_BACKUP_CMD:=bin/skimd backup}"
    : "${SKIM_KEEP_PREV_CMD:=if [[ -f bin/skimd ]]; then cp -p bin/skimd bin/skimd.prev; fi}"
    : "${SKIM_RESTORE_PREV_CMD:=cp -p bin/skimd.prev bin/skimd.tmp && mv -f bin/skimd.tmp bin/skimd}"
    : "${SKIM_RESTART_CMD:=${sudo}systemctl restart skimd}"
    : "${SKIM_HEALTH_CMD:=bin/skimd healthcheck}"
  else
    : "${SKIM_BUILD_CMD:=$compose build}"
    : "${SKIM_BACKUP_CMD:=$compose exec -T skimd skimd backup}"
    # Tag the image the running container uses, whatever `build` has since tagged :latest.
    # (A command string for bash -c, so the quotes inside are meant literally.)
    # shellcheck disable=SC2089
    : "${SKIM_KEEP_PREV_CMD:=cid=\$($compose ps -q skimd); if [[ -n \$cid ]]; then docker image tag \"\$(docker inspect --format '{{.Image}}' \"\$cid\")\" $image:prev; fi}"
    : "${SKIM_RESTORE_PREV_CMD:=docker image tag $image:prev $image:latest}"
    : "${SKIM_RESTART_CMD:=$compose up -d --no-build}"
    : "${SKIM_HEALTH_CMD:=$compose exec -T skimd skimd healthcheck}"
  fi
}

# Run one step's command string in the checkout, with its output logged.
run_step() {
  local name="$1" cmd="$2"
  shift 2
  log "$name: $cmd${*:+   [\$1.. = $*]}"
  local rc=0
  # fd 9 (the lock) is closed so nothing a step leaves running can hold the lock.
  bash -c "$cmd"$'\n' "$name" "$@" 9>&- 2>&1 | log_stream || rc=$?
  if ((rc != 0)); then
    log "$name failed (exit $rc)"
  fi
  return "$rc"
}

backup_database() {
  local short="$1" stamp path
  if [[ ! -f "$SKIM_DB_FILE" ]]; then
    log "no database at $SKIM_DB_FILE yet: nothing to back up"
    return 0
  fi
  mkdir -p data/backups
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  path="data/backups/skim-$stamp-$short.db"
  if [[ -e "$path" ]]; then
    path="data/backups/skim-$stamp-$short-$$.db"
  fi
  run_step backup "$SKIM_BACKUP_CMD \"\$1\"" "$path" || return 1
  if [[ ! -s "$path" ]]; then
    log "backup command succeeded but $path is missing or empty"
    return 1
  fi
  log "database backed up to $path"
  prune_backups
}

# Keep the newest BACKUP_KEEP deploy backups (skim-*.db; names sort by time). Manual backups
# (anything else in data/backups) are never touched.
prune_backups() {
  local -a backups=()
  local f
  while IFS= read -r f; do
    backups+=("$f")
  done < <(find data/backups -maxdepth 1 -type f -name 'skim-*.db' -printf '%f\n' | LC_ALL=C sort)
  local excess=$((${#backups[@]} - BACKUP_KEEP))
  local i
  for ((i = 0; i < excess; i++)); do
    rm -f -- "data/backups/${backups[i]}"
    log "pruned old backup data/backups/${backups[i]}"
  done
}

# systemd mode: swap the freshly built binary in (an atomic rename; the running daemon keeps
# its already-open old binary until the restart).
install_new_binary() {
  if [[ "$DEPLOY_MODE" == systemd && -f bin/skimd.new ]]; then
    mv -f bin/skimd.new bin/skimd
    log "installed new bin/skimd (previous kept as bin/skimd.prev)"
  fi
}

wait_healthy() {
  local deadline=$(($(date +%s) + HEALTH_TIMEOUT))
  while :; do
    if bash -c "$SKIM_HEALTH_CMD" health 9>&- >>"$LOG_FILE" 2>&1; then
      log "health check passed"
      return 0
    fi
    if (($(date +%s) >= deadline)); then
      log "health check still failing after ${HEALTH_TIMEOUT}s"
      return 1
    fi
    sleep "$HEALTH_INTERVAL"
  done
}

# Local edits to tracked files would be lost by `git reset --hard`; keep them as a patch.
save_local_changes() {
  if ! git diff --quiet HEAD --; then
    local patch
    patch="logs/deploy-local-changes-$(date -u +%Y%m%dT%H%M%SZ).patch"
    git diff HEAD -- >"$patch"
    log "WARNING: tracked files were edited on this machine; saved the changes to $patch before checkout (put local settings in .env or a --config file instead)"
  fi
}

finish() {
  local rc="$1" message="$2"
  log "$message"
  notify "skim: $message"
  return "$rc"
}

notify() {
  local message="$1"
  if [[ -n "${SKIM_NOTIFY_CMD:-}" ]]; then
    bash -c "$SKIM_NOTIFY_CMD"$'\n' notify "$message" 9>&- >>"$LOG_FILE" 2>&1 || log "notification command failed (ignored)"
    return 0
  fi
  local url="${DISCORD_WEBHOOK_URL:-}"
  if [[ -z "$url" && -f .env ]]; then
    url="$(sed -n 's/^[[:space:]]*\(export[[:space:]]\+\)\?DISCORD_WEBHOOK_URL=//p' .env | tail -n 1)"
    url="${url%\"}"; url="${url#\"}"; url="${url%\'}"; url="${url#\'}"
  fi
  [[ -n "$url" ]] || return 0
  local json="${message//\\/\\\\}"
  json="${json//\"/\\\"}"
  json="${json//$'\n'/\\n}"
  json="${json//$'\t'/ }"
  curl -fsS -m 10 -H 'Content-Type: application/json' -d "{\"content\":\"$json\"}" "$url" >/dev/null 2>&1 ||
    log "Discord notification failed (ignored)"
  return 0
}

log() {
  local line
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) deploy: $*"
  printf '%s\n' "$line"
  printf '%s\n' "$line" >>"$LOG_FILE" 2>/dev/null || true
}

# Prefix a command's output lines and log them.
log_stream() {
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    log "  | $line"
  done
}

main "$@"
exit $?
