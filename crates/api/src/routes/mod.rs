//! One module per router; [`all`] collects their declarations.

pub mod auth;
pub mod console;
pub mod ensemble;
pub mod hedging;
pub mod positions;
pub mod probes;
pub mod regime;
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
        console::declare,
        crate::web::declare,
    ] {
        declare(&mut routes);
    }
    routes
}
