//! Debrief's text work: the resolution judge now; the summarizer, tagging and LLM backends
//! join it. Deterministic and free of I/O unless a backend says otherwise.

pub mod classify;
pub mod judge;
pub mod metrics;
