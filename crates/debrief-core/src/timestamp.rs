//! RFC 3339 timestamps for serde, read with chrono's dedicated RFC 3339 parser (several times
//! faster than the general one behind `DateTime`'s own `Deserialize`).

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Deserializer};

fn parse<E: serde::de::Error>(text: &str) -> Result<DateTime<FixedOffset>, E> {
    DateTime::parse_from_rfc3339(text).map_err(|error| {
        E::custom(format!(
            "{text:?} is not an RFC 3339 time with an offset: {error}"
        ))
    })
}

/// A required timestamp.
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DateTime<FixedOffset>, D::Error> {
    let text: Cow<'de, str> = Deserialize::deserialize(deserializer)?;
    parse(&text)
}

/// An optional timestamp (`null` or absent is `None`).
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    let text: Option<Cow<'de, str>> = Deserialize::deserialize(deserializer)?;
    text.map(|text| parse(&text)).transpose()
}

/// Parses JSON text into `T`, fast, and only on failure a second time with path tracking so
/// that the error names the failing field.
pub fn from_json_with_path<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, crate::RecordError> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(error) if !error.is_data() => Err(crate::RecordError::from_serde(error, None)),
        Err(_) => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let value: T = serde_path_to_error::deserialize(&mut deserializer)
                .map_err(crate::RecordError::from_serde_path)?;
            deserializer
                .end()
                .map_err(|error| crate::RecordError::from_serde(error, None))?;
            Ok(value)
        }
    }
}
