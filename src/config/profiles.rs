//! Loading every carrier profile, with environment overrides applied.

use std::path::{Path, PathBuf};

use super::{CarrierProfile, ConfigError, Env, Secret, Source, toml_error};

/// Profiles compiled into the binary, used when the profile folder does not exist.
const BUILT_IN: &[(&str, &str)] = &[
    ("sim", include_str!("../../carriers/sim.toml")),
    ("telnyx", include_str!("../../carriers/telnyx.toml")),
    ("twilio", include_str!("../../carriers/twilio.toml")),
    ("vonage", include_str!("../../carriers/vonage.toml")),
];

/// What every override variable starts with; the profile's name and `__` follow.
const OVERRIDE_PREFIX: &str = "FLOODGATE_CARRIER_";

/// Reads `dir/*.toml` (or the built-in profiles if `dir` does not exist), in name order.
///
/// A `FLOODGATE_CARRIER_...` variable that names no loaded profile is an error: a typo must
/// not leave a limit silently as it was.
pub fn load_profiles(dir: &Path, env: &Env) -> Result<Vec<CarrierProfile>, ConfigError> {
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
    let names: Vec<&str> = sources.iter().map(|(name, _, _)| name.as_str()).collect();
    refuse_unknown_profiles(&names, env)?;
    sources
        .iter()
        .map(|(name, path, text)| parse_profile(name, path, text, env))
        .collect()
}

/// The prefix of `profile`'s override variables, e.g. `FLOODGATE_CARRIER_TWILIO__`.
fn override_prefix(profile: &str) -> String {
    format!(
        "{OVERRIDE_PREFIX}{}__",
        profile.to_uppercase().replace('-', "_")
    )
}

/// Fails on the first `FLOODGATE_CARRIER_...` variable whose profile is not among `names`.
fn refuse_unknown_profiles(names: &[&str], env: &Env) -> Result<(), ConfigError> {
    let prefixes: Vec<String> = names.iter().map(|name| override_prefix(name)).collect();
    let stray = env.names_with_prefix(OVERRIDE_PREFIX).find(|var| {
        !prefixes
            .iter()
            .any(|prefix| var.starts_with(prefix.as_str()))
    });
    match stray {
        None => Ok(()),
        Some(var) => Err(ConfigError::new(
            Source::Env(var.to_owned()),
            "-",
            format!(
                "names no carrier profile; the loaded profiles are {} \
                 (FLOODGATE_CARRIER_<PROFILE>__<KEY>)",
                names.join(", ")
            ),
        )),
    }
}

/// Parses one profile, applies `FLOODGATE_CARRIER_<NAME>__...` overrides and reads its secrets.
///
/// A bad value is blamed on where it came from: the override's variable when one set the key,
/// the file otherwise. A variable with the profile's prefix that matches none of its keys is
/// an error naming the keys there are.
pub fn parse_profile(
    name: &str,
    path: &Path,
    text: &str,
    env: &Env,
) -> Result<CarrierProfile, ConfigError> {
    let file = Source::File(path.to_owned());
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::new(file.clone(), "-", toml_error::describe(text, &e))
    })?;

    let prefix = override_prefix(name);
    let keys: Vec<(String, String)> = override_keys(&table)
        .into_iter()
        .map(|key| {
            let var = format!("{prefix}{}", key.replace('.', "__").to_uppercase());
            (key, var)
        })
        .collect();
    if let Some(stray) = env
        .names_with_prefix(&prefix)
        .find(|var| !keys.iter().any(|(_, known)| known == var))
    {
        let key = stray[prefix.len()..].to_lowercase().replace("__", ".");
        let known: Vec<&str> = keys.iter().map(|(_, var)| var.as_str()).collect();
        return Err(ConfigError::new(
            Source::Env(stray.to_owned()),
            key,
            format!(
                "matches no key of carrier profile `{name}`; the keys are {}",
                known.join(", ")
            ),
        ));
    }
    let mut overridden: Vec<(String, String)> = Vec::new();
    for (key, var) in keys {
        if let Some(raw) = env.get(&var) {
            set_path(&mut table, &key, parse_scalar(&raw));
            overridden.push((key, var));
        }
    }
    let source_of = |key: &str| {
        overridden
            .iter()
            .find(|(set, _)| covers(set, key))
            .map(|(_, var)| Source::Env(var.clone()))
            .unwrap_or_else(|| file.clone())
    };

    let mut profile: CarrierProfile = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| {
        let key = e.path().to_string();
        ConfigError::new(source_of(&key), key, e.into_inner().message().to_owned())
    })?;
    profile.name = name.to_owned();
    profile
        .validate()
        .map_err(|(key, problem)| ConfigError::new(source_of(&key), key, problem))?;
    for (credential, var) in &profile.credentials {
        if let Some(value) = env.get(var).filter(|v| !v.is_empty()) {
            profile
                .secrets
                .insert(credential.clone(), Secret::new(value));
        }
    }
    Ok(profile)
}

/// Whether setting the dotted key `set` set `key` (itself, or a field or element under it).
fn covers(set: &str, key: &str) -> bool {
    key.strip_prefix(set)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
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
        "sender_defaults",
        "sender_defaults.long_code",
        "sender_defaults.toll_free",
        "sender_defaults.short_code",
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
