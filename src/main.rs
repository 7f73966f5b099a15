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
    /// Manage leaders' communities.
    #[command(subcommand)]
    Community(CommunityCommand),
    /// Manage leaders' API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Show or change carrier limits at runtime; every instance obeys within seconds.
    #[command(subcommand)]
    Limits(LimitsCommand),
}

#[derive(Debug, Subcommand)]
enum LimitsCommand {
    /// Print each carrier's limits in force, which instance sends for it, and its numbers' rates.
    Show,
    /// Change a carrier's rate and/or burst, or a sender number's rate (kept until reset).
    Set(commands::SetLimits),
    /// Go back to the profile's limits (for a number, its kind's default).
    Reset(commands::ResetLimits),
}

#[derive(Debug, Subcommand)]
enum CommunityCommand {
    /// Create a community with its join keyword and number; prints its id.
    Create(commands::CreateCommunity),
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key for a community; prints it once.
    Create {
        /// The community the key acts for.
        #[arg(long)]
        community: i64,
    },
    /// Revoke an API key by its public prefix (the 8 characters after `fg_`).
    Revoke {
        #[arg(long)]
        prefix: String,
    },
}

fn main() -> std::process::ExitCode {
    telemetry::memory::limit_allocator_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("floodgate: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Demo(_) = &cli.command {
        if let Err(e) = commands::refuse_demo_flags(&cli.config) {
            eprintln!("floodgate: {e}");
            return std::process::ExitCode::from(2);
        }
    }
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
        Command::Community(CommunityCommand::Create(args)) => {
            commands::create_community(&settings, &args)
                .await
                .map(|id| println!("{id}"))
        }
        Command::Key(KeyCommand::Create { community }) => {
            commands::create_key(&settings, community).await.map(|key| {
                println!("{key}");
                eprintln!("floodgate: store this key now; it cannot be shown again");
            })
        }
        Command::Key(KeyCommand::Revoke { prefix }) => commands::revoke_key(&settings, &prefix)
            .await
            .map(|()| eprintln!("floodgate: key {prefix} revoked")),
        Command::Limits(LimitsCommand::Show) => commands::show_limits(&settings)
            .await
            .map(|views| views.iter().for_each(|v| println!("{v}"))),
        Command::Limits(LimitsCommand::Set(args)) => commands::set_limits(&settings, &args)
            .await
            .map(|view| println!("{view}")),
        Command::Limits(LimitsCommand::Reset(args)) => commands::reset_limits(&settings, &args)
            .await
            .map(|view| println!("{view}")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let error: &(dyn std::error::Error + 'static) = e.as_ref();
            eprintln!("floodgate: {}", telemetry::ErrorChain(error));
            std::process::ExitCode::FAILURE
        }
    }
}
