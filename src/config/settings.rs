//! The engine's settings: where the store and broker are, where to listen, how carriers reach us.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{ConfigError, Source};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines for a terminal.
    Text,
    /// One JSON object per line for log shippers.
    Json,
}

/// Which store to use; parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH` (or `sqlite::memory:`) and `postgres://` / `postgresql://` URLs.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("sqlite:") {
            Ok(Self::Sqlite(text.to_owned()))
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            url::Url::parse(text)
                .map_err(|e| format!("`{}` is not a valid URL: {e}", redact_url(text)))?;
            Ok(Self::Postgres(text.to_owned()))
        } else {
            Err(format!(
                "`{}` is not a supported database URL; use sqlite://PATH or postgres://USER@HOST:PORT/DB",
                redact_url(text)
            ))
        }
    }

    /// The URL to hand to the store.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Postgres(url) => url,
        }
    }
}

/// Everything `floodgate serve` needs to start, after layering file < environment < flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Store location; SQLite by default so the first run needs no setup.
    pub database_url: DatabaseUrl,
    /// RabbitMQ; `None` runs the in-process queues made durable by the store.
    pub amqp_url: Option<String>,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// The base URL carriers call; Twilio signs over it, so it must match what they see.
    pub public_url: url::Url,
    /// Folder of carrier profiles (`*.toml`); built-in profiles are used when it is absent.
    pub carriers_dir: PathBuf,
    /// Text for terminals, JSON for log shippers.
    pub log_format: LogFormat,
    /// The stages' knobs (`[pipeline]` in the config file).
    pub pipeline: super::PipelineConfig,
}

impl Settings {
    /// The defaults: SQLite file in the working directory, embedded queues, loopback listener.
    pub fn defaults() -> Self {
        let listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
        Self {
            database_url: DatabaseUrl::Sqlite("sqlite://floodgate.db".into()),
            amqp_url: None,
            listen,
            public_url: url::Url::parse("http://127.0.0.1:8080").expect("constant URL"),
            carriers_dir: PathBuf::from("carriers"),
            log_format: LogFormat::Text,
            pipeline: super::PipelineConfig::default(),
        }
    }

    /// Applies one raw value for `key` from `source`, validating it.
    pub(super) fn apply(
        &mut self,
        key: &str,
        value: &str,
        source: &Source,
    ) -> Result<(), ConfigError> {
        let bad = |problem: String| ConfigError::new(source.clone(), key, problem);
        match key {
            "database_url" => self.database_url = DatabaseUrl::parse(value).map_err(bad)?,
            "amqp_url" => {
                self.amqp_url = match value {
                    "" => None,
                    v if v.starts_with("amqp://") || v.starts_with("amqps://") => {
                        Some(v.to_owned())
                    }
                    v => {
                        return Err(bad(format!(
                            "`{}` is not an amqp:// or amqps:// URL",
                            redact_url(v)
                        )));
                    }
                }
            }
            "listen" => self.listen = value.parse().map_err(|_| {
                bad(format!(
                    "`{value}` is not a socket address (expected HOST:PORT, e.g. 127.0.0.1:8080)"
                ))
            })?,
            "public_url" => {
                let url = url::Url::parse(value)
                    .map_err(|e| bad(format!("`{value}` is not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(bad(format!("`{value}` must be an http:// or https:// URL")));
                }
                self.public_url = url;
            }
            "carriers_dir" => self.carriers_dir = PathBuf::from(value),
            "log_format" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => {
                        return Err(bad(format!(
                            "`{other}` is not a log format; use `text` or `json`"
                        )));
                    }
                }
            }
            other => return Err(bad(super::load::unknown_key(other))),
        }
        Ok(())
    }
}

/// Hides the password in a URL before it reaches a message or a log.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => text.to_owned(),
    }
}
