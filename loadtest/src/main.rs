//! Floodgate's load scenarios (spike, broadcast, mixed) will live here; see the README.
//!
//! Until they land, this binary says so instead of pretending to measure anything.

fn main() -> std::process::ExitCode {
    eprintln!(
        "loadtest: the spike/broadcast/mixed scenarios are not implemented yet.\n\
         The carrier simulator runs on its own: cargo run -p floodgate-sim -- --help\n\
         The end-to-end demo: cargo run --release -- demo"
    );
    std::process::ExitCode::from(2)
}
