//! The routers, one module per resource.

pub mod ai_agents;
pub mod billing;
pub mod company_files;
pub mod connectors;
pub mod conversations;
pub mod credits;
pub mod exports;
pub mod governance;
pub mod health;
pub mod insights;
pub mod people;
pub mod records;
pub mod sessions;
pub mod tokens;
pub mod webhooks;
