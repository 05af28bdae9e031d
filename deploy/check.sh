#!/usr/bin/env bash
# Deployment checks, run by .ci/run (and by hand: `bash deploy/check.sh`):
#   1. shellcheck on every shell script in deploy/, deploy/tests/ and docker/
#   2. systemd-analyze verify (and an offline security score) of the systemd units
#   3. the compose file: `docker compose config` when a compose plugin is present, and
#      always a structural check (deploy/tests/config_test.py: compose, Dockerfile,
#      .dockerignore, hooks.json, unit directives)
#   4. deploy/tests/webhook_test.sh (webhook.sh in throwaway git repositories)
#   5. deploy/tests/hooks_test.sh (hooks.json served by the real `webhook` tool)
#   6. the justfile parses and has the everyday recipes (when `just` is available)
# Missing tools are installed with apt-get (CI runs as root) or pip. Prints one line per
# check and a summary; exits non-zero if any check failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT="$PWD"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()

say() { printf '%s\n' "$*"; }
skip() { SKIPPED=$((SKIPPED + 1)); say "skip - $1 ($2)"; }

# run_check NAME COMMAND...: run it with output captured; print ok/FAIL and the output on failure.
run_check() {
  local name="$1"
  shift
  local out="$TMP/out.$PASSED.$FAILED"
  if "$@" >"$out" 2>&1; then
    PASSED=$((PASSED + 1))
    say "ok   - $name"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    say "FAIL - $name"
    sed 's/^/       /' "$out"
  fi
}

# --- tools ----------------------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
  local sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      say "note: cannot install $* (not root, no sudo)"
      return 1
    fi
  fi
  command -v apt-get >/dev/null || { say "note: no apt-get to install $*"; return 1; }
  if ((APT_UPDATED == 0)); then
    "${sudo[@]}" apt-get update -qq >"$TMP/apt-update.log" 2>&1 || say "note: apt-get update failed (trying the install anyway)"
    APT_UPDATED=1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" \
    >"$TMP/apt-install.log" 2>&1 || { tail -n 5 "$TMP/apt-install.log"; return 1; }
}

need_tools() { # need_tools tool:package ...
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if ((${#missing[@]})); then
    apt_install "${missing[@]}" || true
  fi
}

need_tools shellcheck:shellcheck systemd-analyze:systemd webhook:webhook curl:curl openssl:openssl \
  git:git flock:util-linux python3:python3

if ! python3 -c 'import yaml' 2>/dev/null; then
  say "installing PyYAML"
  python3 -m pip install -q pyyaml >/dev/null 2>&1 || apt_install python3-yaml || true
fi
# Optional: the BuildKit Dockerfile parser (config_test.py falls back to reading lines).
python3 -c 'import dockerfile' 2>/dev/null || python3 -m pip install -q dockerfile >/dev/null 2>&1 || true
# Optional: just, to check the justfile parses.
command -v just >/dev/null || python3 -m pip install -q rust-just >/dev/null 2>&1 || true

# --- 1. shellcheck --------------------------------------------------------------------------

shell_scripts() {
  local f
  for f in deploy/*.sh deploy/tests/*.sh docker/*.sh deploy/* docker/*; do
    [[ -f "$f" ]] || continue
    if [[ "$f" == *.sh ]] || head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then
      echo "$f"
    fi
  done | sort -u
}

check_shellcheck() {
  command -v shellcheck >/dev/null || { echo "shellcheck is not installed"; return 1; }
  local -a files
  mapfile -t files < <(shell_scripts)
  echo "shellcheck ${files[*]}"
  shellcheck --severity=style "${files[@]}"
}
run_check "shellcheck deploy/ docker/ scripts" check_shellcheck

# --- 2. systemd units -----------------------------------------------------------------------

# systemd-analyze verify insists that ExecStart's binary exists (and it does not exist on a CI
# machine: /opt/skim/bin/skimd, /usr/bin/webhook). So we verify a copy of each unit whose
# ExecStart points at a stub executable of the same name in a temporary folder; every other
# line is the committed unit, unchanged. Users (User=skim) and paths are not checked by verify.
# verify prints warnings (an unknown key, a bad value) yet exits 0, so any output is a failure.
verify_unit() {
  local unit="$1"
  command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; return 1; }
  local dir="$TMP/units"
  mkdir -p "$dir/bin"
  local exe
  exe="$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "deploy/$unit" | head -n1)"
  [[ -n "$exe" ]] || { echo "no ExecStart in deploy/$unit"; return 1; }
  local stub
  stub="$dir/bin/$(basename "$exe")"
  printf '#!/bin/sh\nexit 0\n' >"$stub"
  chmod +x "$stub"
  sed "s#^ExecStart=$exe#ExecStart=$stub#" "deploy/$unit" >"$dir/$unit"
  local out rc=0
  out="$(systemd-analyze verify --man=no "$dir/$unit" 2>&1)" || rc=$?
  echo "$out"
  [[ $rc -eq 0 && -z "$out" ]]
}
run_check "systemd-analyze verify deploy/skimd.service" verify_unit skimd.service
run_check "systemd-analyze verify deploy/skim-webhook.service" verify_unit skim-webhook.service

# Exposure score 0 (locked down) .. 10 (unprotected); ours is about 1.4. Fail above 2.5 so the
# hardening cannot be dropped unnoticed. `--offline` needs systemd >= 250.
security_score() {
  systemd-analyze security --offline=yes --threshold=25 "$TMP/units/skimd.service" | tail -n 1
}
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
  run_check "systemd-analyze security deploy/skimd.service (exposure <= 2.5)" security_score
else
  skip "systemd-analyze security" "this systemd has no --offline mode (needs >= 250)"
fi

# --- 3. compose, Dockerfile, hooks.json, unit directives -----------------------------------

compose_config() {
  # Validate a copy next to an empty .env: the real .env (secrets) is never read or created.
  mkdir -p "$TMP/compose/docker"
  cp docker/docker-compose.yml "$TMP/compose/docker/"
  : >"$TMP/compose/.env"
  docker compose -f "$TMP/compose/docker/docker-compose.yml" config -q
}
if docker compose version >/dev/null 2>&1; then
  run_check "docker compose config -q" compose_config
else
  skip "docker compose config -q" "no docker compose plugin here; the structural check below stands in"
fi

config_test() {
  python3 deploy/tests/config_test.py "$@" >"$TMP/config.out" 2>&1
  local rc=$?
  grep -c '^ok ' "$TMP/config.out" | sed 's/$/ structural checks passed/'
  grep -v '^ok ' "$TMP/config.out"
  return $rc
}
run_check "docker/docker-compose.yml structure" config_test compose
run_check "docker/Dockerfile and .dockerignore structure" config_test dockerfile dockerignore
run_check "deploy/hooks.json structure" config_test hooks
run_check "deploy/*.service directives" config_test unit webhook-unit

# --- 4, 5. tests of webhook.sh and hooks.json -----------------------------------------------

run_check "deploy/tests/webhook_test.sh" bash deploy/tests/webhook_test.sh
run_check "deploy/tests/hooks_test.sh" bash deploy/tests/hooks_test.sh

# --- 6. justfile ----------------------------------------------------------------------------

check_justfile() {
  local summary recipe absent=0
  summary=" $(just --justfile "$ROOT/justfile" --working-directory "$ROOT" --summary) "
  for recipe in default demo demo-auth test lint run up down logs deploy backup bench ci; do
    if [[ "$summary" != *" $recipe "* ]]; then
      echo "justfile: no recipe '$recipe'"
      absent=1
    fi
  done
  echo "recipes:$summary"
  return "$absent"
}
if command -v just >/dev/null; then
  run_check "justfile parses and has the everyday recipes" check_justfile
else
  skip "justfile" "just is not installed (pip install rust-just)"
fi

# --- summary --------------------------------------------------------------------------------

if ((FAILED)); then
  say "failed: ${FAILED_NAMES[*]}"
fi
say "deploy-checks: $PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0))
