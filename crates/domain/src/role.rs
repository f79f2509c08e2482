//! User roles come from `tenant-auth`, the identity crate (the only dependency of the domain
//! on it), so tokens and stored users share one definition.

pub use tenant_auth::{Permission, Role};
