//! Typed, layered configuration: file < environment < flags, plus carrier profiles.

mod env;
mod error;
mod load;
mod pipeline;
mod profile;
mod profiles;
mod rate_bounds;
mod secret;
mod sender_defaults;
mod settings;
mod toml_error;

pub use env::Env;
pub use error::{ConfigError, Source};
pub use load::{ConfigFlags, load, load_with};
pub use pipeline::PipelineConfig;
pub use profile::{
    ADAPTERS, CarrierProfile, DailyCap, LimitUnit, Limits, SenderKind, SenderProfile,
};
pub use profiles::{load_profiles, parse_profile};
pub use rate_bounds::{
    MAX_BURST, MAX_RATE_PER_SECOND, MIN_RATE_PER_SECOND, check_burst, check_rate,
};
pub use secret::Secret;
pub use sender_defaults::{SenderDefaults, sender_rate};
pub use settings::{DatabaseUrl, LogFormat, Settings, redact_url};

#[cfg(test)]
mod tests;
