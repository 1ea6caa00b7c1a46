//! The parts of a session summary (FORMATS.md section 2) that every engine, the store, the API
//! and the exports share.

use serde::{Deserialize, Serialize};

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Unresolved,
    Escalated,
    Unknown,
}
