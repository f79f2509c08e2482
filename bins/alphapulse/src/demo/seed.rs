//! Seeding: finding, creating or repairing the demo tenants and users through the repository
//! ports (idempotent), or only checking that they are all there.

use alphapulse_admin::password::{hash_password, verify_password};
use alphapulse_domain::{
    ports::{Actor, TenantFilter, TenantRepo, UserRepo},
    tenant::PLATFORM_SLUG,
    AuditNote, Email, NewTenant, NewUser, PageRequest, RepoError, Role, Slug, Tenant, UserPatch,
};
use anyhow::{anyhow, bail, Context, Result};

use super::{
    tenant_email, tenant_password, DemoData, DemoPlatform, DemoTenant, DemoUser, TenantSpec,
    OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD, STAFF_TENANT, TENANTS, TENANT_ROLES,
};

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
