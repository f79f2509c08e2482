//! Shared application state.

use alphapulse_persistence::Db;

/// What handlers share: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database pool (tenant data only through its scopes).
    pub db: Db,
}
