//! The storage error type, the same for both backends.

/// What a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in the caller's company.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; `constraint` names it.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// An argument the store cannot use (a bad cursor, an unknown URL scheme).
    #[error("{0}")]
    Invalid(String),
    /// Stored data that no longer parses: a bug or a manual edit.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(ref database_error) if database_error.is_unique_violation() => {
                StoreError::Conflict {
                    constraint: database_error
                        .constraint()
                        .map(str::to_string)
                        .unwrap_or_else(|| database_error.message().to_string()),
                }
            }
            other => StoreError::Database(other),
        }
    }
}

/// Result of storage calls.
pub type Result<T> = std::result::Result<T, StoreError>;
