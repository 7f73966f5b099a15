//! What the `floodgate` subcommands do; `main.rs` only parses arguments and dispatches here.

mod demo;
mod migrate;
mod serve;

pub use demo::{DemoArgs, Summary, demo};
pub use migrate::migrate;
pub use serve::serve;
