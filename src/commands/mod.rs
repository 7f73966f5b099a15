//! What the `floodgate` subcommands do; `main.rs` only parses arguments and dispatches here.
