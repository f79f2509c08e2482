//! AlphaPulse HTTP API on actix-web.
//!
//! [`configure`] registers every route on an `App`; [`AppState`] carries what handlers need.
//! The binary builds the state and runs the server; tests build the same app in process.

pub mod health;
pub mod state;

pub use state::AppState;

use actix_web::web;

/// Registers every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::health).service(health::ready);
}
