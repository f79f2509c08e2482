//! Row types, queries and the `Pg*Repo` implementations of the domain ports, one module per
//! table group.
//!
//! Query functions take `&mut PgConnection` and leave the transaction to the caller (a
//! [`crate::TenantScope`] or [`crate::PlatformScope`]); the repo structs open the right scope.

pub mod audit;
mod cursor;
pub mod tenants;
pub mod users;

pub use audit::PgAuditRepo;
pub use tenants::PgTenantRepo;
pub use users::PgUserRepo;
