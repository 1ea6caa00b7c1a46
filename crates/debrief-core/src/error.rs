//! Errors of the domain crate.

use std::fmt;

/// Why one input record (a JSON object, a JSON Lines line) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecordError {
    /// The failing field as a path (`device.platform`, `turns[3].text`); `None` for a syntax
    /// error, where [`RecordError::position`] says where.
    pub field: Option<String>,
    /// What is wrong, lowercase.
    pub reason: String,
    /// Line and column (1-based) of a syntax error inside the record's text.
    pub position: Option<(usize, usize)>,
}

impl RecordError {
    /// A semantic error on a named field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RecordError {
            field: Some(field.into()),
            reason: reason.into(),
            position: None,
        }
    }

    /// Maps a serde_json error; data errors carry the field path, syntax errors the position.
    pub fn from_serde(error: serde_json::Error, path: Option<String>) -> Self {
        use serde_json::error::Category;
        let message = strip_position(&error.to_string());
        match error.classify() {
            Category::Data => {
                let field = join_missing_field(path.unwrap_or_default(), &message);
                RecordError {
                    field: Some(field),
                    reason: message,
                    position: None,
                }
            }
            Category::Syntax | Category::Eof | Category::Io => RecordError {
                field: None,
                reason: message,
                position: Some((error.line(), error.column())),
            },
        }
    }

    /// Maps a serde_path_to_error error, keeping the path to the failing field.
    pub fn from_serde_path(error: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        Self::from_serde(error.into_inner(), Some(path))
    }
}

/// The field name used when the record as a whole has the wrong shape (JSONPath's root).
pub const ROOT_FIELD: &str = "$";

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// For "missing field `x`" the failing field is the missing one, below the path.
fn join_missing_field(path: String, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match missing {
        Some(name) if path.is_empty() => name.to_string(),
        Some(name) => format!("{path}.{name}"),
        None if path.is_empty() => ROOT_FIELD.to_string(),
        None => path,
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.field, self.position) {
            (Some(field), _) if !field.is_empty() => write!(formatter, "{field}: {}", self.reason),
            (_, Some((line, column))) => {
                write!(formatter, "{} at line {line} column {column}", self.reason)
            }
            _ => formatter.write_str(&self.reason),
        }
    }
}

/// Errors of domain values built from strings (tiers, time zones, dates).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A value is not one the domain accepts; the message names it and what would be.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// Result of the domain crate.
pub type Result<T> = std::result::Result<T, Error>;
