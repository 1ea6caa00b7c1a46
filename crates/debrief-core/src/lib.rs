//! Debrief's domain: sessions, tenants and the pure rules over them. This crate does no I/O.

pub mod access;
pub mod billing;
pub mod credits;
pub mod error;
pub mod governance;
pub mod money;
pub mod resolution;
pub mod session;
pub mod summary;
pub mod tenancy;
pub mod timestamp;

pub use error::{Error, RecordError, Result};
pub use session::{Session, SessionRecord};
