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

use alphapulse_admin::password::{hash_password, verify_password};
use alphapulse_domain::{
    ports::{Actor, TenantFilter, TenantRepo, UserRepo},
    tenant::PLATFORM_SLUG,
    AuditNote, Email, NewTenant, NewUser, PageRequest, RepoError, Role, Slug, SubscriptionTier,
    Tenant, TenantId, UserId, UserPatch,
};
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

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

/// What a seeding run changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedCounts {
    pub tenants_created: usize,
    pub users_created: usize,
    pub users_repaired: usize,
}

impl SeedCounts {
    /// Whether the run changed nothing.
    pub fn is_noop(&self) -> bool {
        *self == Self::default()
    }
}

/// Apply: create or repair what is missing. Check: change nothing, report `None` for anything
/// missing or not matching.
enum Mode<'c> {
    Apply(&'c mut SeedCounts),
    Check,
}

/// The demo data over the repository ports.
pub struct Demo<'a> {
    tenants: &'a dyn TenantRepo,
    users: &'a dyn UserRepo,
}

impl std::fmt::Debug for Demo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo").finish_non_exhaustive()
    }
}

impl<'a> Demo<'a> {
    pub fn new(tenants: &'a dyn TenantRepo, users: &'a dyn UserRepo) -> Self {
        Self { tenants, users }
    }

    /// Whether the database has no tenant besides the platform tenant.
    pub fn database_is_empty(&self) -> Result<bool> {
        let page = PageRequest::new(Some(2), None).map_err(|e| anyhow!(e))?;
        let tenants = self
            .tenants
            .list(&TenantFilter::default(), &page)
            .context("listing tenants")?;
        Ok(tenants
            .items
            .iter()
            .all(|t| t.slug.as_str() == PLATFORM_SLUG))
    }

    /// Creates whatever demo data is missing (idempotent) and returns every credential.
    pub fn seed(&self) -> Result<(DemoData, SeedCounts)> {
        let mut counts = SeedCounts::default();
        let data = self
            .collect(&mut Mode::Apply(&mut counts))?
            .context("demo data incomplete after seeding")?;
        Ok((data, counts))
    }

    /// The demo credentials if every demo tenant and user exists and logs in with its
    /// documented password; changes nothing.
    pub fn existing(&self) -> Result<Option<DemoData>> {
        self.collect(&mut Mode::Check)
    }

    fn collect(&self, mode: &mut Mode<'_>) -> Result<Option<DemoData>> {
        let platform_slug = Slug::parse(PLATFORM_SLUG).map_err(|e| anyhow!(e))?;
        let platform = self
            .tenants
            .find_by_slug(&platform_slug)
            .context("looking up the platform tenant")?
            .context("the platform tenant is missing: run `alphapulse migrate`")?;
        let Some(owner) =
            self.ensure_user(mode, &platform, OWNER_EMAIL, OWNER_PASSWORD, Role::Owner)?
        else {
            return Ok(None);
        };
        let Some(staff) =
            self.ensure_user(mode, &platform, STAFF_EMAIL, STAFF_PASSWORD, Role::Staff)?
        else {
            return Ok(None);
        };

        let mut tenants = Vec::with_capacity(TENANTS.len());
        for spec in &TENANTS {
            let Some(tenant) = self.ensure_tenant(mode, spec)? else {
                return Ok(None);
            };
            let mut users = Vec::with_capacity(TENANT_ROLES.len());
            for role in TENANT_ROLES {
                let email = tenant_email(role, spec.slug);
                let password = tenant_password(role, spec.slug);
                let Some(user) = self.ensure_user(mode, &tenant, &email, &password, role)? else {
                    return Ok(None);
                };
                users.push(user);
            }
            if spec.slug == STAFF_TENANT {
                let assigned = self
                    .tenants
                    .assigned_tenants(staff.user_id)
                    .context("reading the staff user's tenants")?;
                if !assigned.contains(&tenant.id) {
                    match mode {
                        Mode::Apply(_) => self
                            .tenants
                            .assign_staff(staff.user_id, tenant.id)
                            .with_context(|| format!("assigning {STAFF_EMAIL} to {}", spec.slug))?,
                        Mode::Check => return Ok(None),
                    }
                }
            }
            tenants.push(DemoTenant {
                id: tenant.id,
                slug: spec.slug.to_owned(),
                users,
            });
        }
        Ok(Some(DemoData {
            platform: DemoPlatform { owner, staff },
            tenants,
        }))
    }

    fn ensure_tenant(&self, mode: &mut Mode<'_>, spec: &TenantSpec) -> Result<Option<Tenant>> {
        let slug = Slug::parse(spec.slug).map_err(|e| anyhow!(e))?;
        let lookup = || {
            self.tenants
                .find_by_slug(&slug)
                .with_context(|| format!("looking up tenant {}", spec.slug))
        };
        if let Some(tenant) = lookup()? {
            return Ok(Some(tenant));
        }
        let Mode::Apply(counts) = mode else {
            return Ok(None);
        };
        let new = NewTenant {
            name: spec.name.to_owned(),
            slug: slug.clone(),
            subscription_tier: spec.tier,
            max_users: Some(spec.max_users),
            max_api_calls_per_day: None,
            metadata: Some(serde_json::json!({ "demo": true })),
        };
        let note = seed_note(
            "tenant.create",
            serde_json::json!({ "slug": spec.slug, "source": "seed-demo" }),
        );
        let tenant = match self.tenants.create(new, &note) {
            Ok(tenant) => tenant,
            // Another seeder created it in the meantime: use theirs.
            Err(RepoError::Conflict(_)) => {
                return lookup()?
                    .with_context(|| format!("tenant {} conflicts but cannot be found", spec.slug))
                    .map(Some)
            }
            Err(e) => return Err(e).with_context(|| format!("creating tenant {}", spec.slug)),
        };
        counts.tenants_created += 1;
        tracing::info!(tenant_id = %tenant.id, slug = spec.slug, "created demo tenant");
        Ok(Some(tenant))
    }

    fn ensure_user(
        &self,
        mode: &mut Mode<'_>,
        tenant: &Tenant,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<Option<DemoUser>> {
        let parsed = Email::parse(email).map_err(|e| anyhow!(e))?;
        let demo_user = |user_id| DemoUser {
            user_id,
            email: email.to_owned(),
            password: password.to_owned(),
            role,
        };
        let lookup = || {
            self.users
                .find_credentials(&parsed)
                .with_context(|| format!("looking up {email}"))
        };
        if let Some(existing) = lookup()? {
            if existing.user.tenant_id != tenant.id {
                bail!(
                    "{email} already belongs to another tenant than {}; remove it or use another database",
                    tenant.slug
                );
            }
            let patch = UserPatch {
                role: (existing.user.role != role).then_some(role),
                active: (!existing.user.active).then_some(true),
                password_hash: if verify_password(password, &existing.password_hash) {
                    None
                } else {
                    Some(hash(password)?)
                },
            };
            if patch != UserPatch::default() {
                let Mode::Apply(counts) = mode else {
                    return Ok(None);
                };
                let note = seed_note(
                    "user.update",
                    serde_json::json!({ "email": email, "restored": true, "source": "seed-demo" }),
                );
                self.users
                    .update(&Actor::system(tenant.id), existing.user.id, patch, &note)
                    .with_context(|| format!("restoring demo user {email}"))?;
                counts.users_repaired += 1;
                tracing::warn!(
                    email,
                    "demo user had been changed; restored its role, active flag and password"
                );
            }
            return Ok(Some(demo_user(existing.user.id)));
        }
        let Mode::Apply(counts) = mode else {
            return Ok(None);
        };
        let new = NewUser {
            tenant_id: tenant.id,
            email: parsed.clone(),
            password_hash: hash(password)?,
            role,
        };
        let note = seed_note(
            "user.create",
            serde_json::json!({ "email": email, "role": role, "source": "seed-demo" }),
        );
        let user = match self
            .users
            .create(&Actor::system(tenant.id), new, tenant.max_users, &note)
        {
            Ok(user) => user,
            Err(RepoError::Conflict(_)) => {
                let existing =
                    lookup()?.with_context(|| format!("{email} conflicts but cannot be found"))?;
                if existing.user.tenant_id != tenant.id {
                    bail!(
                        "{email} already belongs to another tenant than {}",
                        tenant.slug
                    );
                }
                return Ok(Some(demo_user(existing.user.id)));
            }
            Err(e @ RepoError::LimitReached(_)) => {
                return Err(e).with_context(|| {
                    format!(
                        "creating {email}: tenant {} has reached its max_users ({})",
                        tenant.slug, tenant.max_users
                    )
                })
            }
            Err(e) => return Err(e).with_context(|| format!("creating demo user {email}")),
        };
        counts.users_created += 1;
        tracing::info!(user_id = %user.id, email, %role, tenant = %tenant.slug, "created demo user");
        Ok(Some(demo_user(user.id)))
    }
}

/// The audit note of a seeding action (no user), appended with the change.
fn seed_note(action: &str, details: serde_json::Value) -> AuditNote {
    AuditNote {
        user_id: None,
        action: action.to_owned(),
        request_id: None,
        details,
    }
}

fn hash(password: &str) -> Result<String> {
    hash_password(password).map_err(|e| anyhow!("hashing a demo password: {e}"))
}

/// Human-readable credentials (the `seed-demo` text output).
pub fn credentials_table(data: &DemoData) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let rows = std::iter::once(("platform", &data.platform.owner))
        .chain(std::iter::once(("platform", &data.platform.staff)))
        .chain(
            data.tenants
                .iter()
                .flat_map(|t| t.users.iter().map(move |u| (t.slug.as_str(), u))),
        );
    let _ = writeln!(
        out,
        "{:<14} {:<8} {:<30} {:<28} user_id",
        "tenant", "role", "email", "password"
    );
    for (tenant, user) in rows {
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:<30} {:<28} {}",
            tenant,
            user.role.as_str(),
            user.email,
            user.password,
            user.user_id
        );
    }
    out
}

/// How to log in to a server at `base` (e.g. `http://127.0.0.1:8080`).
pub fn login_instructions(base: &str, data: &DemoData) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "AlphaPulse demo is up at {base}");
    if let Some((tenant, admin)) = data.sample_admin() {
        let _ = writeln!(
            out,
            "  tenant admin ({}): {} / {}",
            tenant.slug, admin.email, admin.password
        );
    }
    let owner = &data.platform.owner;
    let _ = writeln!(
        out,
        "  platform owner: {} / {}",
        owner.email, owner.password
    );
    let _ = writeln!(
        out,
        "  other tenants' users: <role>@<slug>.demo / demo-<role>-<slug>"
    );
    if let Some((_, admin)) = data.sample_admin() {
        let _ = writeln!(out, "Log in:");
        let _ = writeln!(
            out,
            "  curl -s -X POST {base}/api/v1/auth/token -H 'Content-Type: application/json' \\\n    -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
            admin.email, admin.password
        );
        let _ = writeln!(out, "then call the API with the access_token:");
        let _ = writeln!(
            out,
            "  curl -s {base}/api/v1/users -H \"Authorization: Bearer $TOKEN\""
        );
    }
    let _ = writeln!(out, "Every demo credential: alphapulse seed-demo (--json for JSON). Demo only: never use these passwords elsewhere.");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn demo_names_are_valid() {
        for spec in &TENANTS {
            Slug::parse(spec.slug).unwrap();
            assert!(spec.max_users >= 10);
            for role in TENANT_ROLES {
                Email::parse(&tenant_email(role, spec.slug)).unwrap();
                assert!(
                    tenant_password(role, spec.slug).len()
                        >= alphapulse_admin::password::MIN_PASSWORD_LEN
                );
            }
        }
        assert_eq!(
            tenant_email(Role::Admin, "acme-capital"),
            "admin@acme-capital.demo"
        );
        assert_eq!(
            tenant_password(Role::Viewer, "beta-quant"),
            "demo-viewer-beta-quant"
        );
        Email::parse(OWNER_EMAIL).unwrap();
        Email::parse(STAFF_EMAIL).unwrap();
        assert!(OWNER_PASSWORD.len() >= alphapulse_admin::password::MIN_PASSWORD_LEN);
        assert!(STAFF_PASSWORD.len() >= alphapulse_admin::password::MIN_PASSWORD_LEN);
        assert!(TENANTS.iter().any(|t| t.slug == STAFF_TENANT));
    }

    #[test]
    fn json_has_the_documented_shape() {
        let user = |email: &str, role| DemoUser {
            user_id: UserId::new_random(),
            email: email.to_owned(),
            password: "pw".to_owned(),
            role,
        };
        let data = DemoData {
            platform: DemoPlatform {
                owner: user(OWNER_EMAIL, Role::Owner),
                staff: user(STAFF_EMAIL, Role::Staff),
            },
            tenants: vec![DemoTenant {
                id: TenantId::new_random(),
                slug: "acme-capital".to_owned(),
                users: vec![user("admin@acme-capital.demo", Role::Admin)],
            }],
        };
        let json = serde_json::to_value(&data).unwrap();
        let owner = &json["platform"]["owner"];
        let mut keys: Vec<_> = owner.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["email", "password", "role", "user_id"]);
        assert_eq!(owner["role"], "owner");
        let tenant = &json["tenants"][0];
        let mut keys: Vec<_> = tenant.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["id", "slug", "users"]);
        assert_eq!(tenant["users"][0]["role"], "admin");
        let text = login_instructions("http://127.0.0.1:1", &data);
        assert!(
            text.contains("/api/v1/auth/token") && text.contains("admin@acme-capital.demo"),
            "{text}"
        );
    }
}
