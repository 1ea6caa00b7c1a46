//! The routers, one module per resource.

pub mod ai_agents;
pub mod company_files;
pub mod conversations;
pub mod health;
pub mod records;
pub mod sessions;
pub mod tokens;
