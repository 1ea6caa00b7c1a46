//! The routers, one module per resource.

pub mod health;
pub mod sessions;
pub mod tokens;
