//! The routers, one module per resource.

pub mod ai_agents;
pub mod conversations;
pub mod health;
pub mod records;
pub mod sessions;
pub mod taxonomy;
pub mod tokens;
