//! The demo logins a seeding run returns (the `seed-demo --json` document).

use alphapulse_domain::{Role, TenantId, UserId};
use serde::Serialize;

/// One demo login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoUser {
    pub user_id: UserId,
    pub email: String,
    pub password: String,
    pub role: Role,
}

/// The platform's demo users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoPlatform {
    pub owner: DemoUser,
    pub staff: DemoUser,
}

/// A demo tenant and its users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoTenant {
    pub id: TenantId,
    pub slug: String,
    pub users: Vec<DemoUser>,
}

/// Every demo credential (the `seed-demo --json` document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoData {
    pub platform: DemoPlatform,
    pub tenants: Vec<DemoTenant>,
}

impl DemoData {
    /// The first tenant's admin: the login shown in instructions.
    pub fn sample_admin(&self) -> Option<(&DemoTenant, &DemoUser)> {
        self.tenants.iter().find_map(|t| {
            t.users
                .iter()
                .find(|u| u.role == Role::Admin)
                .map(|u| (t, u))
        })
    }
}
