//! Demo data: the platform owner, a platform staff user and three tenants with an `admin`,
//! a `trader` and a `viewer` each, with fixed, documented passwords (demo only).
//!
//! | who | e-mail | password |
//! |---|---|---|
//! | platform owner | `owner@alphapulse.local` | `demo-owner` |
//! | platform staff (assigned to acme-capital) | `staff@alphapulse.local` | `demo-staff` |
//! | tenant users | `<role>@<slug>.demo` | `demo-<role>-<slug>` |
//!
//! Tenants: `acme-capital` (pro), `beta-quant` (enterprise), `gamma-macro` (starter).
//!
//! Seeding is idempotent: existing tenants and users are found by slug and e-mail and reused;
//! only what is missing is created. A demo user whose password, role or active flag was
//! changed is put back, so the printed credentials always work. Everything goes through the
//! repository ports (`Actor::system(tenant)` for tenant-scoped writes).
//!
//! The demo tenants' market data, paper accounts, positions and regime universes are seeded by
//! [`crate::demo_market`] (after this module's tenants and users exist).
//!
//! Modules: `specs` (who the demo users and tenants are), `logins` (what a run returns),
//! `seed` (creating or checking them), `instructions` (the credentials table and login
//! instructions).

mod instructions;
mod logins;
mod seed;
mod specs;

pub use instructions::{credentials_table, login_instructions};
pub use logins::{DemoData, DemoPlatform, DemoTenant, DemoUser};
pub use seed::{Demo, SeedCounts};
pub use specs::{
    tenant_email, tenant_password, TenantSpec, OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL,
    STAFF_PASSWORD, STAFF_TENANT, TENANTS, TENANT_ROLES,
};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
