//! What can go wrong talking to the database.

/// A store failure; callers decide between "retry later" and "report".
///
/// A variant's message includes its cause's, and the cause is not also `source()`, so a report
/// that walks the chain prints it once. Callers that branch on the cause match the variant.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(cause: sqlx::Error) -> Self {
        Self::Database(cause)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(cause: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(cause)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::StoreError;

    #[test]
    fn the_cause_is_in_the_message_and_not_repeated_as_a_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = StoreError::from(sqlx::Error::Io(io));
        assert!(e.source().is_none());
        let message = e.to_string();
        assert_eq!(message.matches("refused").count(), 1, "{message}");
        let e = StoreError::from(sqlx::migrate::MigrateError::VersionMissing(7));
        assert!(e.source().is_none());
        assert_eq!(e.to_string().matches('7').count(), 1, "{e}");
    }
}
