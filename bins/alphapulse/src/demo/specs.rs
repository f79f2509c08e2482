//! Who the demo is made of: the platform's demo users and the demo tenants, with their fixed,
//! documented e-mails and passwords (demo only).

use alphapulse_domain::{Role, SubscriptionTier};

/// The platform owner's e-mail.
pub const OWNER_EMAIL: &str = "owner@alphapulse.local";
/// The platform owner's password.
pub const OWNER_PASSWORD: &str = "demo-owner";
/// The platform staff user's e-mail.
pub const STAFF_EMAIL: &str = "staff@alphapulse.local";
/// The platform staff user's password.
pub const STAFF_PASSWORD: &str = "demo-staff";
/// The tenant the staff user is assigned to.
pub const STAFF_TENANT: &str = "acme-capital";
/// The roles every demo tenant has one user of, in order.
pub const TENANT_ROLES: [Role; 3] = [Role::Admin, Role::Trader, Role::Viewer];

/// A demo tenant's definition.
#[derive(Debug, Clone, Copy)]
pub struct TenantSpec {
    /// Unique handle.
    pub slug: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Plan.
    pub tier: SubscriptionTier,
    /// User limit.
    pub max_users: i32,
}

/// The demo tenants, in order.
pub const TENANTS: [TenantSpec; 3] = [
    TenantSpec {
        slug: "acme-capital",
        name: "Acme Capital",
        tier: SubscriptionTier::Pro,
        max_users: 25,
    },
    TenantSpec {
        slug: "beta-quant",
        name: "Beta Quant",
        tier: SubscriptionTier::Enterprise,
        max_users: 100,
    },
    TenantSpec {
        slug: "gamma-macro",
        name: "Gamma Macro",
        tier: SubscriptionTier::Starter,
        max_users: 10,
    },
];

/// The e-mail of a demo tenant user.
pub fn tenant_email(role: Role, slug: &str) -> String {
    format!("{role}@{slug}.demo")
}

/// The password of a demo tenant user.
pub fn tenant_password(role: Role, slug: &str) -> String {
    format!("demo-{role}-{slug}")
}
