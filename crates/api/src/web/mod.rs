//! The web console (`/console`): server-rendered HTML pages (maud, no script) over the same
//! services and permissions as the JSON API.
//!
//! - `login`: the login form, logout, `/console`;
//! - `firm`: the tenants the user may see and their settings form;
//! - `rules`: candidates, dry runs, accept/reject, rules in force, versions, rollback;
//! - `audit`: the decision trail with filters and the CSV download;
//! - [`session`]: the session cookie, CSRF tokens, logout;
//! - `layout`, [`pages`]: chrome, stylesheet, error pages.
//!
//! Every page is declared in the route table with [`crate::routing::Access::Console`]: the
//! tests walk it (a page without a session redirects to the login page; a form without its
//! CSRF token is 403), and the OpenAPI document leaves it out (HTML with cookie sessions is
//! not part of the JSON contract).

mod audit;
mod firm;
mod layout;
mod login;
pub mod pages;
mod rules;
pub mod session;

use crate::routing::Routes;

/// Declares the console's pages.
pub fn declare(routes: &mut Routes) {
    login::declare(routes);
    firm::declare(routes);
    rules::declare(routes);
    audit::declare(routes);
}
