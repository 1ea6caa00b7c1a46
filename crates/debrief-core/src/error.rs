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

/// Longest id or key a record may carry (session, conversation, supporter, device, module and
/// policy ids, idempotency keys): ids are stored as indexed columns.
pub const MAX_ID_BYTES: usize = 200;

/// Longest URL a setting may hold (webhook endpoints, connector instances).
pub const MAX_URL_BYTES: usize = 2048;

/// An error on `field` when `value` is longer than `max` bytes.
pub fn check_length(field: &str, value: &str, max: usize) -> std::result::Result<(), RecordError> {
    if value.len() > max {
        return Err(RecordError::invalid(
            field,
            format!("is longer than {max} bytes"),
        ));
    }
    Ok(())
}

/// A 422-style error unless `value` (the id in `field`) is non-empty, at most
/// [`MAX_ID_BYTES`] long and free of control characters.
pub fn check_id(field: &str, value: &str) -> std::result::Result<(), RecordError> {
    if value.trim().is_empty() {
        return Err(RecordError::invalid(field, "must not be empty"));
    }
    check_length(field, value, MAX_ID_BYTES)?;
    if value.chars().any(char::is_control) {
        return Err(RecordError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Rejects JSON text holding a NUL character (`\u0000`) in any string, naming the field: no
/// database text column holds one, so it is refused at the edge on every backend alike.
pub fn reject_nul(json: &str) -> std::result::Result<(), RecordError> {
    if !has_nul_escape(json.as_bytes()) {
        return Ok(());
    }
    let field = serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|value| nul_path(&value, String::new()))
        .unwrap_or_else(|| ROOT_FIELD.to_string());
    Err(RecordError::invalid(
        field,
        "must not contain a NUL character (\\u0000)",
    ))
}

/// Whether JSON text has a `\u0000` escape (a backslash escape, not an escaped backslash
/// followed by `u0000`).
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut index = 0;
    while let Some(offset) = bytes[index..].iter().position(|byte| *byte == b'\\') {
        let at = index + offset;
        match bytes.get(at + 1) {
            Some(b'u') if bytes.get(at + 2..at + 6) == Some(b"0000") => return true,
            Some(_) => index = at + 2,
            None => return false,
        }
    }
    false
}

/// The path (`turns[3].text`) of the first string, or key, holding a NUL.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Some(if path.is_empty() {
            ROOT_FIELD.to_string()
        } else {
            path
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_path(item, format!("{path}[{index}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(key))
            } else {
                nul_path(item, join(key))
            }
        }),
        _ => None,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_named_by_its_field_and_an_escaped_backslash_is_not_one() {
        let error = reject_nul(r#"{"id": "s", "turns": [{"text": "ok"}, {"text": "a\u0000b"}]}"#)
            .expect_err("a NUL");
        assert_eq!(error.field.as_deref(), Some("turns[1].text"));
        assert!(reject_nul(r#"{"path": "C:\\u0000dir"}"#).is_ok());
        assert!(reject_nul(r#"{"text": "\"quoted\" and \\ fine"}"#).is_ok());
    }

    #[test]
    fn ids_have_a_length_and_no_control_characters() {
        assert!(check_id("supporter.id", "u-ana").is_ok());
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert_eq!(
            check_id("supporter.id", &long).map_err(|error| error.field),
            Err(Some("supporter.id".to_string()))
        );
        assert!(check_id("id", "a\u{7}b").is_err());
        assert!(check_id("id", "  ").is_err());
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
