//! One module per router.

pub mod auth;
pub mod tenants;
pub mod users;
