//! One module per router; [`all`] collects their declarations.

pub mod alerts;
pub mod auth;
pub mod console;
pub mod correlation;
pub mod credentials;
pub mod ensemble;
pub mod hedging;
pub mod liquidity;
pub mod metrics;
pub mod portfolio;
pub mod positions;
pub mod probes;
pub mod regime;
pub mod risk;
pub mod risk_budget;
pub mod system;
pub mod tenants;
pub mod users;

use crate::routing::Routes;

/// Every route of the API, from each router's declarations.
pub fn all() -> Routes {
    let mut routes = Routes::default();
    for declare in [
        probes::declare,
        auth::declare,
        tenants::declare,
        users::declare,
        positions::declare,
        regime::declare,
        hedging::declare,
        ensemble::declare,
        portfolio::declare,
        risk::declare,
        risk_budget::declare,
        correlation::declare,
        alerts::declare,
        metrics::declare,
        system::declare,
        liquidity::declare,
        credentials::declare,
        console::declare,
        crate::web::declare,
    ] {
        declare(&mut routes);
    }
    routes
}
