//! What the `floodgate` subcommands do; `main.rs` only parses arguments and dispatches here.

mod migrate;
mod serve;

pub use migrate::migrate;
pub use serve::serve;
