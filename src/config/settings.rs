//! The engine's settings: where the store and broker are, where to listen, how carriers reach us.

use std::fmt;
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
#[derive(Clone, PartialEq, Eq)]
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

/// The URL with its password hidden: settings get logged and printed.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (backend, url) = match self {
            Self::Sqlite(url) => ("Sqlite", url),
            Self::Postgres(url) => ("Postgres", url),
        };
        f.debug_tuple(backend).field(&redact_url(url)).finish()
    }
}

/// Everything `floodgate serve` needs to start, after layering file < environment < flags.
#[derive(Clone)]
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

/// Every field, with the database and broker passwords hidden.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url)
            .field("amqp_url", &self.amqp_url.as_deref().map(redact_url))
            .field("listen", &self.listen)
            .field("public_url", &redact_url(self.public_url.as_str()))
            .field("carriers_dir", &self.carriers_dir)
            .field("log_format", &self.log_format)
            .field("pipeline", &self.pipeline)
            .finish()
    }
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

/// Hides the password in a URL before it reaches a message or a log, even in a URL that does
/// not parse (a bad port, say), since that is exactly the one an error message quotes.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => text.to_owned(),
        Err(_) => redact_unparsed(text),
    }
}

/// `scheme://user:***@rest` by hand, for text `url` refuses.
fn redact_unparsed(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let Some(at) = text[start..end].rfind('@').map(|i| start + i) else {
        return text.to_owned();
    };
    match text[start..at].find(':').map(|i| start + i) {
        Some(colon) => format!("{}:***{}", &text[..colon], &text[at..]),
        None => text.to_owned(),
    }
}
