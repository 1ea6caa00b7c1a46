//! Debrief's application workflows, between the HTTP layer (`debrief-server`) and the command
//! line (`debrief`) above and the rules (`debrief-core`, `debrief-engine`), the model backends
//! (`debrief-llm`) and the store below. Nothing here knows about HTTP: each workflow answers with
//! [`WorkflowError`], which the server maps to a status and the command line prints.
//!
//! - background workers: [`summaries`] (the summarizer), [`evaluation`] (the evaluator),
//!   [`webhooks`] (the outbox deliverer), supervised by [`worker`] and counted in [`metrics`];
//! - metering: [`timeline`] (the billing timeline and meter) and [`credits`] (the credit
//!   calendar and charging);
//! - [`connectors`] (ServiceNow, Salesforce) with [`secrets`] (credentials at rest) and
//!   [`outbound`] (what requests to a company's addresses may reach);
//! - [`exports`] (which summaries an export holds, and its file) and [`passwords`];
//! - [`engines`] (each company's engine choice) and [`clock`] (the time everything reads).

pub mod clock;
pub mod connectors;
pub mod credits;
pub mod engines;
mod error;
pub mod evaluation;
pub mod exports;
pub mod metrics;
pub mod outbound;
pub mod passwords;
pub mod secrets;
pub mod summaries;
pub mod timeline;
pub mod webhooks;
pub mod worker;

pub use error::{WorkflowError, WorkflowResult};
