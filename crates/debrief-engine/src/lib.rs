//! Debrief's text work: the built-in summarizer, issue-type tagging, the resolution judge and
//! the eval metrics; LLM backends join them. Deterministic and free of I/O.

pub mod applications;
pub mod classify;
pub mod judge;
pub mod judgement;
pub mod language;
pub mod metrics;
pub mod readability;
pub mod rouge;
pub mod screen;
pub mod solved;
pub mod summarize;
mod text;
pub mod veto;
