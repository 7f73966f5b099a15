//! Loading every carrier profile, with environment overrides applied.

use std::path::{Path, PathBuf};

use super::{CarrierProfile, ConfigError, Secret, Source};

/// Profiles compiled into the binary, used when the profile folder does not exist.
const BUILT_IN: &[(&str, &str)] = &[
    ("sim", include_str!("../../carriers/sim.toml")),
    ("telnyx", include_str!("../../carriers/telnyx.toml")),
    ("twilio", include_str!("../../carriers/twilio.toml")),
    ("vonage", include_str!("../../carriers/vonage.toml")),
];

/// Reads `dir/*.toml` (or the built-in profiles if `dir` does not exist), in name order.
pub fn load_profiles(
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<CarrierProfile>, ConfigError> {
    let mut sources: Vec<(String, PathBuf, String)> = Vec::new();
    if dir.is_dir() {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            ConfigError::new(
                Source::File(dir.into()),
                "-",
                format!("cannot read the folder: {e}"),
            )
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::new(
                    Source::File(path.clone()),
                    "-",
                    format!("cannot read the file: {e}"),
                )
            })?;
            sources.push((name, path, text));
        }
    } else {
        for (name, text) in BUILT_IN {
            sources.push((
                (*name).into(),
                PathBuf::from(format!("(built-in) carriers/{name}.toml")),
                (*text).into(),
            ));
        }
    }
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    sources
        .iter()
        .map(|(name, path, text)| parse_profile(name, path, text, env))
        .collect()
}

/// Parses one profile, applies `FLOODGATE_CARRIER_<NAME>__...` overrides and reads its secrets.
pub fn parse_profile(
    name: &str,
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CarrierProfile, ConfigError> {
    let file = Source::File(path.to_owned());
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::new(
            file.clone(),
            "-",
            format!("not valid TOML: {}", e.message()),
        )
    })?;

    let prefix = format!(
        "FLOODGATE_CARRIER_{}__",
        name.to_uppercase().replace('-', "_")
    );
    let mut overridden: Vec<(String, String)> = Vec::new();
    for key in override_keys(&table) {
        let var = format!("{prefix}{}", key.replace('.', "__").to_uppercase());
        if let Some(raw) = env(&var) {
            set_path(&mut table, &key, parse_scalar(&raw));
            overridden.push((key, var));
        }
    }

    let mut profile: CarrierProfile = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| {
        let key = e.path().to_string();
        let source = overridden
            .iter()
            .find(|(k, _)| key.starts_with(k.as_str()))
            .map(|(_, var)| Source::Env(var.clone()))
            .unwrap_or_else(|| file.clone());
        ConfigError::new(source, key, e.into_inner().message().to_owned())
    })?;
    profile.name = name.to_owned();
    profile.validate(&file)?;
    for (credential, var) in &profile.credentials {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            profile
                .secrets
                .insert(credential.clone(), Secret::new(value));
        }
    }
    Ok(profile)
}

/// The keys an environment variable may override: every leaf of the file plus the well-known ones.
fn override_keys(table: &toml::Table) -> Vec<String> {
    let mut keys: Vec<String> = [
        "adapter",
        "api_base",
        "limits.rate_per_second",
        "limits.burst",
        "limits.max_in_flight",
        "limits.unit",
        "limits.daily_cap",
        "limits.daily_cap.limit",
        "limits.daily_cap.time_zone",
        "senders",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    if let Some(toml::Value::Table(creds)) = table.get("credentials") {
        keys.extend(creds.keys().map(|k| format!("credentials.{k}")));
    }
    keys
}

/// Reads an override as TOML (numbers, booleans, inline arrays/tables) or else as a plain string.
fn parse_scalar(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(table: &mut toml::Table, dotted: &str, value: toml::Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cursor = table;
    for part in parts {
        let entry = cursor
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        cursor = next;
    }
    cursor.insert(last.to_owned(), value);
}
