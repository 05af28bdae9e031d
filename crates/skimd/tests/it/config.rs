//! Bad inputs: each is refused with one clear line naming the problem.

use std::collections::HashMap;
use std::process::Command;

use skimd::configuration::{LoadOptions, Settings};

fn load(env: &[(&str, &str)], file: Option<&std::path::Path>) -> Result<Settings, String> {
    Settings::load(&LoadOptions {
        config_file: file.map(|p| p.to_path_buf()),
        read_cwd_defaults: false,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    })
    .map_err(|e| e.to_string())
}

#[test]
fn bad_settings_are_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[strategy]\ngap_treshold_pct = 4\n").unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[strategy\n").unwrap();
    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        Option<&'a std::path::Path>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            vec![("SKIM_SCHEDULE__TRADE", "every 30 seconds")],
            None,
            "schedule.trade",
        ),
        (
            vec![("SKIM_IBKR__BASE_URL", "api.ibkr.com")],
            None,
            "ibkr.base_url",
        ),
        (
            vec![("SKIM_STRATEGY__MAX_SHARES", "-5")],
            None,
            "max_shares",
        ),
        (
            vec![("SKIM_STRATEGY__ENTRY_CUTOFF", "3pm")],
            None,
            "strategy.entry_cutoff",
        ),
        (
            vec![("SKIM_STRATEGY__GAP_THRESHOLD_PCT", "0")],
            None,
            "strategy.gap_threshold_pct",
        ),
        (vec![("SKIM_CLOCK__START", "monday")], None, "clock.start"),
        (vec![("PAPER_TRADING", "perhaps")], None, "PAPER_TRADING"),
        (vec![("DATABASE_URL", "postgres://x")], None, "database.url"),
        (
            vec![("SKIM_NOTIFY__QUEUE_SIZE", "0")],
            None,
            "notify.queue_size",
        ),
        (
            vec![("SKIM_ASX__EXTRA_CLOSURES", "2025-13-45")],
            None,
            "asx.extra_closures",
        ),
        (vec![("SKIM_WHATEVER__X", "1")], None, "whatever"),
        (vec![], Some(unknown.as_path()), "gap_treshold_pct"),
        (vec![], Some(broken.as_path()), "TOML"),
        (
            vec![],
            Some(std::path::Path::new("/nonexistent/skim.toml")),
            "--config",
        ),
    ];
    for (env, file, needle) in cases {
        let e = load(&env, file).expect_err(needle);
        assert!(e.contains(needle), "{needle}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

/// The binary: a bad setting, a missing consumer key, an unreadable key file, a bad prime and a
/// bad --now each end with a non-zero exit and one line, never a panic.
#[test]
fn the_binary_refuses_bad_inputs_with_one_line() {
    let bin = env!("CARGO_BIN_EXE_skimd");
    let dir = tempfile::tempdir().unwrap();
    let base = |cmd: &mut Command| {
        cmd.current_dir(dir.path()).env_remove("RUST_LOG").env(
            "DATABASE_URL",
            format!("sqlite://{}/skim.db", dir.path().display()),
        );
    };
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(bin);
        base(&mut cmd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, err, _) = run(&["--now", "tomorrow", "trade"], &[]);
    assert_ne!(code, Some(0));
    assert!(err.contains("RFC3339"), "{err}");
    let (code, err, _) = run(&["scan"], &[("SKIM_SCHEDULE__SCAN", "often")]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("schedule.scan") && err.lines().count() == 1,
        "{err}"
    );
    let (code, err, _) = run(&["scan"], &[("OAUTH_CONSUMER_KEY", "")]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("ibkr.consumer_key") && err.contains("OAUTH_CONSUMER_KEY"),
        "{err}"
    );
    let (code, err, _) = run(
        &["scan"],
        &[
            ("OAUTH_CONSUMER_KEY", "ABCDEFGHI"),
            ("OAUTH_ACCESS_TOKEN", "t"),
            ("OAUTH_ACCESS_TOKEN_SECRET", "c2Vj"),
            ("OAUTH_SIGNATURE_PATH", "/nonexistent/sig.pem"),
            ("OAUTH_DH_PRIME", "ff"),
        ],
    );
    assert_ne!(code, Some(0));
    assert!(
        err.contains("OAUTH_SIGNATURE_PATH") && !err.contains("panicked"),
        "{err}"
    );
    let (code, _, out) = run(
        &["doctor"],
        &[
            ("OAUTH_CONSUMER_KEY", "ABCDEFGHI"),
            ("OAUTH_ACCESS_TOKEN", "t"),
            ("OAUTH_ACCESS_TOKEN_SECRET", "c2Vj"),
            ("OAUTH_DH_PRIME", "ff"),
        ],
    );
    assert_ne!(code, Some(0));
    assert!(out.contains("✘") && out.contains("OAUTH_DH_PRIME"), "{out}");
    let (code, err, _) = run(&["oauth", "prime", "/nonexistent/dhparam.pem"], &[]);
    assert_ne!(code, Some(0));
    assert!(err.contains("cannot read"), "{err}");
}
