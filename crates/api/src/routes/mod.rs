//! One module per router.

pub mod auth;
pub mod positions;
pub mod regime;
pub mod tenants;
pub mod users;
