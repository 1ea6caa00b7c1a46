//! What a workflow can fail with; the server maps each kind to an HTTP status.

use debrief_core::RecordError;
use debrief_store::StoreError;

/// Why a workflow did not complete.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// A field of the caller's input is not acceptable: which, and why.
    #[error("{0}")]
    Invalid(RecordError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored value or an invariant is broken; the detail is for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A workflow's answer.
pub type WorkflowResult<T> = Result<T, WorkflowError>;
