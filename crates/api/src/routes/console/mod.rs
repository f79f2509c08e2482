//! The firm console's JSON routes (seed 004): tenant settings (`settings`), rules
//! (`rules`) and the decision audit trail (`audit`). Reads need a console role (owner, staff
//! for assigned tenants, a tenant admin; trader and viewer get 403 from the service); changes
//! need `manage_settings` (owner, admin: staff get 403 by the route table). The use cases are
//! [`alphapulse_console`]'s. The web console's HTML pages live in [`crate::web`].

mod audit;
pub use audit::stream_csv;
mod dto;
mod rules;
mod settings;

pub use dto::*;

use crate::routing::Routes;

/// Declares the console routes.
pub fn declare(routes: &mut Routes) {
    settings::declare(routes);
    rules::declare(routes);
    audit::declare(routes);
}
