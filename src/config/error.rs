//! Configuration errors that name where the bad value came from.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from, so an error can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A TOML file (`--config`, `FLOODGATE_CONFIG`, or a carrier profile).
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("the built-in default"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A configuration problem: one message naming the source, the key and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {origin}: key `{key}`: {problem}")]
pub struct ConfigError {
    pub origin: Source,
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    /// Builds an error for `key` read from `source`.
    pub fn new(source: Source, key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            origin: source,
            key: key.into(),
            problem: problem.into(),
        }
    }
}
