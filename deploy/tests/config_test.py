#!/usr/bin/env python3
"""Structural checks of skim's deployment files, for machines without a Docker engine or
systemd running (CI, this dev box). Each check reads one file and asserts the properties the
deploy relies on, so a later edit cannot quietly drop one (a restart policy, a volume, the
stop grace period, a hardening line...).

Usage: python3 deploy/tests/config_test.py [compose|dockerfile|dockerignore|hooks|unit|webhook-unit ...]
(no argument: all). Prints "ok   - ..." / "FAIL - ..." per check; exits 1 if any failed.
Needs PyYAML for `compose`, and the `dockerfile` package (the official BuildKit parser) for
`dockerfile` if it is installed; without it the Dockerfile is read line by line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
failures: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    if ok:
        print(f"ok   - {name}")
    else:
        failures.append(name)
        print(f"FAIL - {name}{': ' + detail if detail else ''}")


def seconds(value: object) -> float:
    """Compose durations: '90s', '1m30s', '2m', or a number of seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(value)):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total


def compose() -> None:
    import yaml  # PyYAML; deploy/check.sh installs it if missing

    path = ROOT / "docker/docker-compose.yml"
    doc = yaml.safe_load(path.read_text())
    services = doc.get("services", {})
    check("compose: exactly one service, skimd", list(services) == ["skimd"], str(list(services)))
    svc = services.get("skimd", {})
    build = svc.get("build", {})
    check("compose: build context .. with docker/Dockerfile",
          build.get("context") == ".." and build.get("dockerfile") == "docker/Dockerfile", str(build))
    check("compose: restart unless-stopped", svc.get("restart") == "unless-stopped", str(svc.get("restart")))
    env_file = svc.get("env_file")
    env_files = env_file if isinstance(env_file, list) else [env_file]
    env_paths = [e.get("path") if isinstance(e, dict) else e for e in env_files]
    check("compose: env_file ../.env", "../.env" in env_paths, str(env_file))
    volumes = svc.get("volumes", [])
    for want in ("../data:/app/data", "../logs:/app/logs", "../oauth_keys:/app/oauth_keys:ro",
                 "../config:/app/config:ro"):
        check(f"compose: volume {want}", want in volumes, str(volumes))
    logging = svc.get("logging", {})
    options = logging.get("options", {})
    check("compose: json-file logs rotated (max-size, max-file)",
          logging.get("driver") == "json-file" and "max-size" in options and "max-file" in options, str(logging))
    health = svc.get("healthcheck", {})
    test = health.get("test", [])
    test_text = " ".join(test) if isinstance(test, list) else str(test)
    check("compose: healthcheck runs skimd healthcheck", "skimd healthcheck" in test_text, test_text)
    grace = seconds(svc.get("stop_grace_period", 0))
    check("compose: stop_grace_period >= 75s (a job may take ~60 s to finish)", grace >= 75, str(grace))
    check("compose: no published ports (healthz is local)", "ports" not in svc)
    text = path.read_text()
    check("compose: restart policy choice explained (max_auth_failures)", "max_auth_failures" in text)


def dockerfile() -> None:
    path = ROOT / "docker/Dockerfile"
    try:
        import dockerfile as parser  # the official Go parser, via PyPI `dockerfile`

        commands = [(c.cmd.upper(), " ".join(c.flags), list(c.value)) for c in parser.parse_file(str(path))]
        print("     (parsed with the BuildKit parser)")
    except ImportError:
        commands = []
        joined = re.sub(r"\\\n", " ", path.read_text())
        for line in joined.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            flags = " ".join(t for t in rest.split() if t.startswith("--"))
            commands.append((word.upper(), flags, [rest]))
    froms = [i for i, c in enumerate(commands) if c[0] == "FROM"]
    check("dockerfile: multi-stage (>= 3 stages)", len(froms) >= 3, str(len(froms)))
    every = " ".join(" ".join(c[2]) for c in commands)
    check("dockerfile: dependencies cached with cargo chef (prepare + cook)",
          "cargo chef prepare" in every and "cargo chef cook" in every)
    check("dockerfile: release build of skimd", re.search(r"cargo build --release.*-p skimd", every) is not None)
    final = commands[froms[-1]:] if froms else []
    base = " ".join(final[0][2]) if final else ""
    check("dockerfile: runtime is debian:bookworm-slim", base.startswith("debian:bookworm-slim"), base)
    builder_bases = [" ".join(commands[i][2]) for i in froms[:-1]]
    check("dockerfile: builder pinned to bookworm (glibc matches runtime)",
          any("bookworm" in b for b in builder_bases), str(builder_bases))
    final_text = " ".join(" ".join(c[2]) for c in final)
    check("dockerfile: runtime has ca-certificates and tzdata",
          "ca-certificates" in final_text and "tzdata" in final_text)
    users = [" ".join(c[2]) for c in final if c[0] == "USER"]
    check("dockerfile: runs as a non-root user",
          bool(users) and not users[-1].split(":")[0] in ("root", "0"), str(users))
    workdirs = [" ".join(c[2]) for c in final if c[0] == "WORKDIR"]
    check("dockerfile: WORKDIR /app", workdirs[-1:] == ["/app"], str(workdirs))
    copies = [" ".join(c[2]) for c in final if c[0] == "COPY" and "--from" not in c[1]]
    check("dockerfile: config copied into /app/config", any("config" in c and "/app/config" in c for c in copies),
          str(copies))
    vols = " ".join(" ".join(c[2]) for c in final if c[0] == "VOLUME")
    for v in ("/app/data", "/app/logs", "/app/oauth_keys"):
        check(f"dockerfile: VOLUME {v}", v in vols, vols)
    health = [" ".join(c[2]) for c in final if c[0] == "HEALTHCHECK"]
    check("dockerfile: HEALTHCHECK uses skimd healthcheck (no curl)",
          bool(health) and "skimd healthcheck" in health[-1] and "curl" not in health[-1], str(health))


def dockerignore() -> None:
    lines = {l.strip().rstrip("/") for l in (ROOT / ".dockerignore").read_text().splitlines()}
    for want in ("target", "data", "logs", "oauth_keys", ".env", ".git"):
        check(f".dockerignore: {want}", want in lines)
    for keep in ("Cargo.toml", "Cargo.lock", "crates", "config"):
        check(f".dockerignore: keeps {keep} in the build context", keep not in lines)


def hooks() -> None:
    hooks = json.loads((ROOT / "deploy/hooks.json").read_text())
    hook = next((h for h in hooks if h.get("id") == "deploy"), None)
    check("hooks.json: a hook with id deploy", hook is not None)
    if hook is None:
        return
    check("hooks.json: runs /opt/skim/deploy/webhook.sh in /opt/skim",
          hook.get("execute-command") == "/opt/skim/deploy/webhook.sh"
          and hook.get("command-working-directory") == "/opt/skim")
    rules = hook.get("trigger-rule", {}).get("and", [])
    matches = [r.get("match", {}) for r in rules]
    hmac = [m for m in matches if m.get("type") == "payload-hmac-sha256"]
    check("hooks.json: HMAC-SHA256 on header X-Hub-Signature-256",
          bool(hmac) and hmac[0].get("parameter") == {"source": "header", "name": "X-Hub-Signature-256"})
    secret = hmac[0].get("secret", "") if hmac else ""
    check("hooks.json: secret comes from the environment, not the file",
          "getenv" in secret and "{{" in secret, secret)
    check("hooks.json: AND ref == refs/heads/main",
          any(m.get("type") == "value" and m.get("value") == "refs/heads/main"
              and m.get("parameter") == {"source": "payload", "name": "ref"} for m in matches))


def unit_directives(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def unit() -> None:
    d = unit_directives(ROOT / "deploy/skimd.service")
    want = {
        "Type": "notify", "Restart": "on-failure", "User": "skim", "Group": "skim",
        "WorkingDirectory": "/opt/skim", "EnvironmentFile": "/opt/skim/.env",
        "ExecStart": "/opt/skim/bin/skimd run", "TimeoutStopSec": "90", "KillSignal": "SIGTERM",
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ReadWritePaths": "/opt/skim/data /opt/skim/logs",
        "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes", "UMask": "0077", "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    }
    for key, value in want.items():
        check(f"skimd.service: {key}={value}", value in d.get(key, []), str(d.get(key)))
    for key in ("WatchdogSec", "StartLimitIntervalSec", "StartLimitBurst"):
        check(f"skimd.service: {key} set", bool(d.get(key)) and d[key][-1] not in ("", "0", "infinity"))
    check("skimd.service: SystemCallFilter=@system-service", "@system-service" in d.get("SystemCallFilter", []))
    check("skimd.service: output to the journal", d.get("StandardOutput", ["journal"])[-1] == "journal")


def webhook_unit() -> None:
    d = unit_directives(ROOT / "deploy/skim-webhook.service")
    exec_start = d.get("ExecStart", [""])[-1]
    check("skim-webhook.service: runs as skim", d.get("User") == ["skim"])
    check("skim-webhook.service: webhook -template with deploy/hooks.json",
          "-template" in exec_start and "/opt/skim/deploy/hooks.json" in exec_start, exec_start)


CHECKS = {"compose": compose, "dockerfile": dockerfile, "dockerignore": dockerignore, "hooks": hooks,
          "unit": unit, "webhook-unit": webhook_unit}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(CHECKS):
        try:
            CHECKS[name]()
        except Exception as error:  # a crash in a check is a failed check, with the reason
            check(f"{name}: readable and well-formed", False, f"{type(error).__name__}: {error}")
    sys.exit(1 if failures else 0)
