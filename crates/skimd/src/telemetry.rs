//! Logging: `tracing-subscriber` to stdout (journald and `docker logs` read it) and, optionally,
//! daily files. `RUST_LOG` overrides `log.level`. Pretty on a terminal, compact (no colours)
//! otherwise, or JSON. Secrets never reach a log line: they are `SecretString`s, whose `Debug`
//! prints `[REDACTED]`.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::configuration::{LogFormat, LogSettings};

/// Keeps the file writer flushing; drop it last.
pub struct TelemetryGuard {
    _file: Option<WorkerGuard>,
}

/// `log.level` plus `tokio_cron_scheduler=warn`, unless the level names that crate itself: the
/// scheduler logs its own start-up chatter at INFO, eight lines per start.
fn quiet_scheduler(level: &str) -> String {
    if level.contains("tokio_cron_scheduler") {
        level.to_string()
    } else {
        format!("{level},tokio_cron_scheduler=warn")
    }
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), so
/// tests and one-shot commands can all call it.
pub fn init(settings: &LogSettings, format: LogFormat) -> TelemetryGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(quiet_scheduler(settings.level.trim())))
        .unwrap_or_else(|_| EnvFilter::new(quiet_scheduler("info")));
    let tty = std::io::stdout().is_terminal();
    let format = match format {
        LogFormat::Auto if tty => LogFormat::Pretty,
        LogFormat::Auto => LogFormat::Compact,
        other => other,
    };

    let (file_writer, guard) = if settings.directory.trim().is_empty() {
        (None, None)
    } else {
        let appender = tracing_appender::rolling::daily(settings.directory.trim(), "skimd.log");
        let (writer, guard) = tracing_appender::non_blocking(appender);
        (Some(writer), Some(guard))
    };

    let registry = tracing_subscriber::registry().with(filter);
    let result = match (format, file_writer) {
        (LogFormat::Json, Some(file)) => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stdout.and(file)),
            )
            .try_init(),
        (LogFormat::Json, None) => registry
            .with(tracing_subscriber::fmt::layer().json())
            .try_init(),
        (LogFormat::Pretty, file) => {
            let stdout = tracing_subscriber::fmt::layer().with_ansi(tty).pretty();
            let file = file.map(|w| {
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(w)
            });
            registry.with(stdout).with(file).try_init()
        }
        (_, file) => {
            let stdout = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .compact()
                .with_target(false);
            let file = file.map(|w| {
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(w)
            });
            registry.with(stdout).with(file).try_init()
        }
    };
    // Already installed (tests, or a second call): keep the first one.
    let _ = result;
    TelemetryGuard { _file: guard }
}

/// For tests: logs only when `TEST_LOG` is set, to keep `cargo test` output readable.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
            )
            .with_test_writer()
            .try_init();
    }
}
