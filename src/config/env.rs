//! The environment configuration is read from: a snapshot of the process's, or a list in tests.

use std::collections::BTreeMap;
use std::fmt;

/// Environment variables by name; unlike a lookup function it can list the names, so a
/// `FLOODGATE_CARRIER_...` variable that matches nothing is found and refused.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The process's variables now (those whose name and value are UTF-8).
    pub fn process() -> Self {
        Self::from_pairs(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    /// Exactly these variables: tests and the sandbox never touch the process's environment.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    /// The names that start with `prefix`, in order.
    pub fn names_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.vars
            .range(prefix.to_owned()..)
            .map(|(name, _)| name.as_str())
            .take_while(move |name| name.starts_with(prefix))
    }
}

/// Names only: values may be credentials.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Env;

    #[test]
    fn lists_names_by_prefix_and_never_prints_values() {
        let env = Env::from_pairs([
            ("FLOODGATE_CARRIER_TWILIO__API_BASE", "http://x"),
            ("FLOODGATE_CARRIERS_DIR", "c"),
            ("TWILIO_AUTH_TOKEN", "hunter2"),
            ("FLOODGATE_CARRIER_SIM__LIMITS__BURST", "2"),
        ]);
        let names: Vec<&str> = env.names_with_prefix("FLOODGATE_CARRIER_").collect();
        assert_eq!(
            names,
            [
                "FLOODGATE_CARRIER_SIM__LIMITS__BURST",
                "FLOODGATE_CARRIER_TWILIO__API_BASE"
            ]
        );
        assert_eq!(env.get("TWILIO_AUTH_TOKEN").as_deref(), Some("hunter2"));
        assert!(!format!("{env:?}").contains("hunter2"));
    }
}
