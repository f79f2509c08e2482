//! AlphaPulse administration use cases: the platform's tenants, each tenant's users, login,
//! and the principal check that runs after every token's signature.
//!
//! - [`TenantAdmin`]: list/read/create/update/cancel tenants (owner; staff read their assigned
//!   tenants), with the audit row in the change's own transaction;
//! - [`UserAdmin`]: a tenant's users (tenant `admin`; the platform `owner` for any tenant):
//!   grant rules, the password policy, hashing, no self-lockout, audit in the same transaction;
//! - [`Login`]: e-mail + password to a signed token, with the same work and the same answer
//!   for an unknown e-mail and a wrong password;
//! - [`Quotas`]: the daily API quota per tenant (shared by every server process through the
//!   database, batched off the hot path) and the burst limit per plan;
//! - [`Principals`]: is the token's tenant active, is its user known, active, in that tenant
//!   and still of that role; answers cached briefly (bounded, with a TTL).
//!
//! Services talk to the domain ports only; the HTTP layer calls one method per request and
//! maps [`AdminError`] to a status.
#![deny(missing_docs)]

pub mod checks;
pub mod error;
pub mod hashing;
pub mod login;
pub mod password;
pub mod principals;
pub mod quotas;
pub mod tenants;
pub mod users;

pub use error::AdminError;

/// Whole seconds until a refused rate limiter admits again (at least 1: a `Retry-After: 0`
/// invites an immediate retry that would be refused again).
pub fn retry_after_secs(
    not_until: &governor::NotUntil<
        <governor::clock::DefaultClock as governor::clock::Clock>::Instant,
    >,
) -> u64 {
    use governor::clock::{Clock, DefaultClock};
    not_until
        .wait_time_from(DefaultClock::default().now())
        .as_secs()
        .max(1)
}
pub use hashing::{HashPool, HashPoolBusy};
pub use login::{Login, LoginError, LoginLimits, Token};
pub use principals::{Principals, Rejection};
pub use quotas::{Admission, Bucket, BurstLimits, QuotaState, Quotas};
pub use tenants::{CreateTenant, TenantAdmin, UpdateTenant};
pub use users::{CreateUser, UpdateUser, UserAdmin};
