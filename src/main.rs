//! The `floodgate` command: parse arguments, load configuration, dispatch, report why it stopped.

use clap::{Parser, Subcommand};
use floodgate::{commands, config, telemetry};

/// SMS broadcast delivery engine.
#[derive(Debug, Parser)]
#[command(name = "floodgate", version, about)]
struct Cli {
    #[command(flatten)]
    config: config::ConfigFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve webhooks, the leader API, health and metrics until SIGTERM.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match config::load(&cli.config) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("floodgate: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init_logging(settings.log_format);
    let result = match cli.command {
        Command::Serve => commands::serve(settings).await,
        Command::Migrate => commands::migrate(&settings).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floodgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
