//! Layering: built-in defaults < TOML file < environment < command-line flags.

use std::path::{Path, PathBuf};

use super::{ConfigError, PipelineConfig, Settings, Source, toml_error};

/// Each setting's key in the file, its environment variable and its flag.
const KEYS: &[(&str, &str, &str)] = &[
    ("database_url", "DATABASE_URL", "--database-url"),
    ("amqp_url", "AMQP_URL", "--amqp-url"),
    ("listen", "FLOODGATE_LISTEN", "--listen"),
    ("public_url", "FLOODGATE_PUBLIC_URL", "--public-url"),
    ("carriers_dir", "FLOODGATE_CARRIERS_DIR", "--carriers-dir"),
    ("log_format", "FLOODGATE_LOG_FORMAT", "--log-format"),
];

/// Settings given on the command line; they win over everything else.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigFlags {
    /// TOML configuration file (also `FLOODGATE_CONFIG`).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Store URL: sqlite://PATH (default sqlite://floodgate.db) or postgres://... (also `DATABASE_URL`).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// RabbitMQ URL; unset runs embedded durable queues (also `AMQP_URL`).
    #[arg(long, global = true, value_name = "URL")]
    pub amqp_url: Option<String>,
    /// Address to listen on, HOST:PORT (also `FLOODGATE_LISTEN`; default 127.0.0.1:8080).
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Base URL carriers call, used to verify signatures (also `FLOODGATE_PUBLIC_URL`).
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Folder of carrier profiles (also `FLOODGATE_CARRIERS_DIR`; default ./carriers).
    #[arg(long, global = true, value_name = "DIR")]
    pub carriers_dir: Option<String>,
    /// `text` or `json` (also `FLOODGATE_LOG_FORMAT`).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

impl ConfigFlags {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "database_url" => self.database_url.as_deref(),
            "amqp_url" => self.amqp_url.as_deref(),
            "listen" => self.listen.as_deref(),
            "public_url" => self.public_url.as_deref(),
            "carriers_dir" => self.carriers_dir.as_deref(),
            "log_format" => self.log_format.as_deref(),
            _ => None,
        }
    }
}

/// Loads settings from the process environment and `flags`.
pub fn load(flags: &ConfigFlags) -> Result<Settings, ConfigError> {
    load_with(flags, |var| std::env::var(var).ok())
}

/// Loads settings with an explicit environment, so tests need not touch the process's.
pub fn load_with(
    flags: &ConfigFlags,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut settings = Settings::defaults();
    let mut public_url_set = false;

    let file = flags
        .config
        .clone()
        .or_else(|| env("FLOODGATE_CONFIG").map(PathBuf::from));
    if let Some(path) = file {
        let (pairs, pipeline) = read_file(&path)?;
        if let Some(pipeline) = pipeline {
            settings.pipeline = pipeline;
        }
        for (key, value) in pairs {
            public_url_set |= key == "public_url";
            settings.apply(&key, &value, &Source::File(path.clone()))?;
        }
    }
    for (key, var, flag) in KEYS {
        if let Some(value) = env(var) {
            public_url_set |= *key == "public_url";
            settings.apply(key, &value, &Source::Env((*var).to_owned()))?;
        }
        if let Some(value) = flags.get(key) {
            public_url_set |= *key == "public_url";
            settings.apply(key, value, &Source::Flag((*flag).to_owned()))?;
        }
    }
    if !public_url_set {
        let derived = format!("http://{}", settings.listen);
        settings.apply("public_url", &derived, &Source::Default)?;
    }
    Ok(settings)
}

/// A settings file: its flat `key = "value"` pairs and its `[pipeline]` table.
type FileSettings = (Vec<(String, String)>, Option<PipelineConfig>);

/// Reads a settings file.
fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let source = Source::File(path.to_owned());
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(source.clone(), "-", format!("cannot read the file: {e}")))?;
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::new(source.clone(), "-", toml_error::describe(&text, &e))
    })?;
    let pipeline = match table.remove("pipeline") {
        None => None,
        Some(value) => {
            let config: PipelineConfig = serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let key = if path == "." {
                    "pipeline".to_owned()
                } else {
                    format!("pipeline.{path}")
                };
                ConfigError::new(source.clone(), key, e.into_inner().message().to_owned())
            })?;
            config.validate().map_err(|(key, problem)| {
                ConfigError::new(source.clone(), format!("pipeline.{key}"), problem)
            })?;
            Some(config)
        }
    };
    let pairs = table
        .into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(s) => Ok((key, s)),
            _ if !KEYS.iter().any(|(known, _, _)| *known == key) => {
                let problem = unknown_key(&key);
                Err(ConfigError::new(source.clone(), key, problem))
            }
            other => Err(ConfigError::new(
                source.clone(),
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((pairs, pipeline))
}

/// Why `key` is not a setting, with the ones there are.
pub(super) fn unknown_key(key: &str) -> String {
    let known: Vec<&str> = KEYS.iter().map(|(known, _, _)| *known).collect();
    format!(
        "unknown key `{key}`; the keys are {} and the [pipeline] table",
        known.join(", ")
    )
}
