//! Structured logs through `tracing`: text for terminals, JSON for log shippers.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default level (`info`, or `warn`
/// when `quiet`, so progress bars are not torn by log lines).
pub fn init_logging(format: LogFormat, quiet: bool) {
    let default = if quiet {
        "warn,sqlx=error,lapin=error"
    } else {
        "info,sqlx=warn,lapin=warn,hyper=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests, the demo) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
