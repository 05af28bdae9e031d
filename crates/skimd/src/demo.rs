//! `skimd demo`: a whole simulated trading day.
pub async fn run() -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("demo: not yet")
}
