//! Which store and bus the engine runs on: the embedded default (a fresh SQLite file in a
//! temporary directory, in-process queues) or PostgreSQL + RabbitMQ given by URL.

use anyhow::bail;

/// The `--backend` choice as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// SQLite in a temporary directory, embedded durable queues.
    Embedded,
    /// `DATABASE_URL` (PostgreSQL) and `AMQP_URL` (RabbitMQ).
    PostgresRabbitmq,
}

/// The resolved backend with its URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    PostgresRabbitmq {
        database_url: String,
        amqp_url: String,
    },
}

impl Backend {
    /// `--backend` wins; without it, both URLs set means PostgreSQL + RabbitMQ, else embedded.
    pub fn resolve(
        choice: Option<BackendChoice>,
        database_url: Option<String>,
        amqp_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let urls = database_url
            .filter(|u| !u.is_empty())
            .zip(amqp_url.filter(|u| !u.is_empty()));
        match (choice, urls) {
            (Some(BackendChoice::Embedded), _) | (None, None) => Ok(Self::Embedded),
            (_, Some((database_url, amqp_url))) => {
                if !database_url.starts_with("postgres") {
                    bail!("DATABASE_URL must be a postgres:// URL for --backend postgres-rabbitmq");
                }
                Ok(Self::PostgresRabbitmq {
                    database_url,
                    amqp_url,
                })
            }
            (Some(BackendChoice::PostgresRabbitmq), None) => bail!(
                "--backend postgres-rabbitmq needs DATABASE_URL and AMQP_URL \
                 (scripts/loadtest starts private ones)"
            ),
        }
    }

    /// The name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::PostgresRabbitmq { .. } => "postgres-rabbitmq",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn chooses_by_flag_then_by_environment() {
        let pg = some("postgres://u@h/db");
        let mq = some("amqp://g:g@h/%2f");
        assert_eq!(
            Backend::resolve(None, None, None).unwrap(),
            Backend::Embedded
        );
        assert_eq!(
            Backend::resolve(None, pg.clone(), None).unwrap(),
            Backend::Embedded
        );
        assert_eq!(
            Backend::resolve(None, pg.clone(), mq.clone())
                .unwrap()
                .name(),
            "postgres-rabbitmq"
        );
        assert_eq!(
            Backend::resolve(Some(BackendChoice::Embedded), pg.clone(), mq.clone()).unwrap(),
            Backend::Embedded
        );
        assert!(Backend::resolve(Some(BackendChoice::PostgresRabbitmq), None, mq).is_err());
        assert!(
            Backend::resolve(None, some("sqlite://x.db"), some("amqp://h")).is_err(),
            "a SQLite URL with a broker is not a supported pair"
        );
    }
}
