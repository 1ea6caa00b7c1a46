//! Reading ingest bodies: one JSON object or an array of up to [`MAX_BATCH_RECORDS`], each
//! answered on its own.

use axum::body::{to_bytes, Body, Bytes};
use axum::http::{header, HeaderMap};
use debrief_core::RecordError;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{ApiError, ApiResult};

/// Reads a JSON request body as `T`, strictly: one JSON object and nothing after it. A syntax
/// error (or anything after the object) is a 400 with line and column, another JSON value in
/// place of the object (`[]`, `"x"`) a 422 on `$`, a wrong field a 422 naming it
/// (`permissions[2]`), as is a NUL character in any string.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map_err(|error| ApiError::malformed_json(&error))?;
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            debrief_core::error::ROOT_FIELD,
            "must be a JSON object",
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        if error.inner().is_data() {
            ApiError::InvalidRecord(RecordError::from_serde_path(error))
        } else {
            ApiError::malformed_json(error.inner())
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::malformed_json(&error))?;
    if let Ok(text) = std::str::from_utf8(bytes) {
        debrief_core::error::reject_nul(text).map_err(ApiError::InvalidRecord)?;
    }
    Ok(value)
}

/// Checks the body of a call that takes none: empty, or an empty JSON object.
pub fn no_body(bytes: &[u8]) -> ApiResult<()> {
    /// The only body such a call accepts.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Nothing {}
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    json_body::<Nothing>(bytes).map(drop)
}

/// Most records one request may carry.
pub const MAX_BATCH_RECORDS: usize = 1_000;

/// Reads a body of at most `limit` bytes; more is a 413.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let too_large = || ApiError::PayloadTooLarge(format!("the body exceeds {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    to_bytes(body, limit).await.map_err(|_| too_large())
}

/// The records of a body.
pub enum Records<'a> {
    One(&'a RawValue),
    Many(Vec<&'a RawValue>),
}

/// Splits a body into records without parsing them further: a syntax error is a 400 naming
/// line and column, a batch over [`MAX_BATCH_RECORDS`] a 413.
pub fn split_records(bytes: &[u8]) -> ApiResult<Records<'_>> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(&b'[') {
        let raw: &RawValue =
            serde_json::from_slice(bytes).map_err(|error| ApiError::malformed_json(&error))?;
        return Ok(Records::One(raw));
    }
    let records: Vec<&RawValue> =
        serde_json::from_slice(bytes).map_err(|error| ApiError::malformed_json(&error))?;
    if records.len() > MAX_BATCH_RECORDS {
        return Err(ApiError::PayloadTooLarge(format!(
            "a batch holds at most {MAX_BATCH_RECORDS} records, this one has {}",
            records.len()
        )));
    }
    Ok(Records::Many(records))
}

/// The `id` of a record, when it has a readable one.
pub fn record_id(raw: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: String,
    }
    serde_json::from_str::<IdOnly>(raw.get())
        .ok()
        .map(|record| record.id)
}

/// Checks a record's optional `company` field against the caller's company.
pub fn check_company(named: Option<&str>, company: &str) -> Result<(), RecordError> {
    match named {
        Some(named) if named != company => Err(RecordError::invalid(
            "company",
            format!("names {named:?}, not the company of this token"),
        )),
        _ => Ok(()),
    }
}

/// The answer for one record of a batch.
#[derive(Debug, Serialize)]
pub struct RecordResult {
    pub index: usize,
    pub id: Option<String>,
    /// `stored`, `duplicate`, `created`, `updated`, `unchanged` or `rejected`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RecordResult {
    /// A record that was accepted with `status`.
    pub fn accepted(index: usize, id: &str, status: &'static str) -> Self {
        RecordResult {
            index,
            id: Some(id.to_string()),
            status,
            field: None,
            reason: None,
        }
    }

    /// A rejected record.
    pub fn rejected(index: usize, raw: &RawValue, error: &RecordError) -> Self {
        RecordResult {
            index,
            id: record_id(raw),
            status: "rejected",
            field: error.field.clone(),
            reason: Some(error.to_string()),
        }
    }
}

/// The answer to a batch: counts by status and the result of each record.
#[derive(Debug, Serialize)]
pub struct BatchResponse {
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    pub results: Vec<RecordResult>,
}

impl BatchResponse {
    /// Counts the results.
    pub fn new(results: Vec<RecordResult>) -> Self {
        let mut counts = std::collections::BTreeMap::new();
        for result in &results {
            *counts.entry(result.status).or_insert(0) += 1;
        }
        BatchResponse { counts, results }
    }
}
