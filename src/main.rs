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
    /// Run the whole engine against a simulated carrier: a broadcast and an inbound spike, then a verdict.
    Demo(commands::DemoArgs),
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
    let quiet_logs = matches!(cli.command, Command::Demo(_));
    telemetry::init_logging(settings.log_format, quiet_logs);
    let result = match cli.command {
        Command::Serve => commands::serve(settings).await,
        Command::Migrate => commands::migrate(&settings).await,
        Command::Demo(args) => commands::demo(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floodgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
