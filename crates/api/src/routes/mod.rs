//! One module per router.

pub mod auth;
pub mod ensemble;
pub mod hedging;
pub mod positions;
pub mod regime;
pub mod tenants;
pub mod users;
