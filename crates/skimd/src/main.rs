//! `skimd`: parse the command line and hand over to the library. Errors end here as one line.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = skimd::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skimd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(skimd::commands::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("skimd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
