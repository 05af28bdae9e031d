# skim: the everyday commands. `just` lists them.

compose := "docker compose -f docker/docker-compose.yml"
# The installed binary on a droplet (/opt/skim/bin/skimd), else build and run from source.
skimd := if path_exists("bin/skimd") == "true" { "bin/skimd" } else { "cargo run --release -q -p skimd --" }

# List the recipes
default:
    @just --list

# A whole simulated trading day against ibkr-sim, with throwaway keys (no account needed)
demo:
    cargo run --release -p skimd -- demo

# Start ibkr-sim with throwaway keys and run `skimd status` against it (the OAuth handshake end to end)
demo-auth port="5055":
    #!/usr/bin/env bash
    set -euo pipefail
    tmp="$(mktemp -d)"
    sim_pid=""
    cleanup() { if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi; rm -rf "$tmp"; }
    trap cleanup EXIT
    cargo build -q -p ibkr-sim -p skimd
    cargo run -q -p ibkr-sim -- --port {{port}} --write-env "$tmp/skim-demo.env" >"$tmp/sim.log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 1 100); do
      if [[ -s "$tmp/skim-demo.env" ]] && (exec 3<>/dev/tcp/127.0.0.1/{{port}}) 2>/dev/null; then break; fi
      kill -0 "$sim_pid" 2>/dev/null || { echo "ibkr-sim exited:"; cat "$tmp/sim.log"; exit 1; }
      sleep 0.2
    done
    [[ -s "$tmp/skim-demo.env" ]] || { echo "ibkr-sim did not start on port {{port}}:"; cat "$tmp/sim.log"; exit 1; }
    set -a
    . "$tmp/skim-demo.env"
    # ibkr-sim also prints SKIM_IBKR__BASE_URL=...; use it if the env file lacks it.
    if [[ -z "${SKIM_IBKR__BASE_URL:-}" ]]; then
      eval "$(grep -m1 -o 'SKIM_IBKR__BASE_URL=[^[:space:]]*' "$tmp/sim.log" || true)"
    fi
    # A throwaway database, so the demo never touches data/skim.db.
    SKIM_DATABASE__URL="sqlite://$tmp/skim.db"
    DATABASE_URL="$SKIM_DATABASE__URL"
    set +a
    echo "ibkr-sim at ${SKIM_IBKR__BASE_URL:-127.0.0.1:{{port}}}"
    cargo run -q -p skimd -- status

# All tests of the workspace
test:
    cargo test --workspace

# Formatting and clippy, as CI runs them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The daemon in the foreground (settings from config/default.toml and .env)
run:
    cargo run --release -p skimd -- run

# Build the image and start the service under docker compose
up:
    {{compose}} up -d --build

# Stop the compose service (data/, logs/ and oauth_keys/ stay on the host)
down:
    {{compose}} down

# Follow the compose service's logs
logs:
    {{compose}} logs -f --tail=200 skimd

# Deploy origin/main now, as the push webhook does (build, backup, restart, health, rollback)
deploy:
    bash deploy/webhook.sh

# A consistent copy of the database while the daemon runs: data/backups/manual-<UTC>.db
backup:
    mkdir -p data/backups
    {{skimd}} backup "data/backups/manual-$(date -u +%Y%m%dT%H%M%SZ).db"

# Benchmarks
bench:
    cargo bench --workspace

# Deployment checks: shellcheck, systemd units, compose file, webhook.sh tests
check-deploy:
    bash deploy/check.sh

# What CI runs
ci:
    bash .ci/run
