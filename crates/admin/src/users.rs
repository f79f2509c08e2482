//! Users of a tenant.
//!
//! A tenant `admin` manages the users of their own tenant; the platform `owner` may act on any
//! tenant. Another tenant's user, or another tenant named by a non-owner, is not found (never
//! "exists elsewhere"). Roles stay on their side of the platform line: tenants hold
//! `admin`/`trader`/`viewer`, the platform tenant holds `owner`/`staff`, and only the owner may
//! grant a platform role, so a tenant admin can never mint a platform account. Nobody can
//! change their own role or deactivate themselves (no self-lockout of the last admin or
//! owner). Every change appends its audit row in its own transaction.

use std::sync::Arc;

use alphapulse_domain::{
    ports::{Actor, TenantRepo, UserRepo},
    tenant::PLATFORM_SLUG,
    AuditNote, Email, NewUser, Page, PageRequest, Permission, Principal, RepoError, Role, Tenant,
    TenantId, User, UserId, UserPatch, ValidationError,
};
use serde_json::json;

use crate::{
    checks::Checks,
    password::{check_policy, hash_password},
    AdminError, Principals,
};

const ROLES: &str = "must be one of: admin, trader, viewer, staff, owner";
const TENANT_ROLES: &str = "must be one of: admin, trader, viewer";
const PLATFORM_ROLES: &str = "platform users must be owner or staff";
const SELF_LOCKOUT: &str = "You cannot change your own role or deactivate yourself";

/// Input of [`UserAdmin::create`].
#[derive(Clone, Default)]
pub struct CreateUser {
    /// Login e-mail, unique across the platform.
    pub email: String,
    /// The password (policy: [`crate::password::check_policy`]).
    pub password: String,
    /// `admin`, `trader` or `viewer` (`owner`/`staff`: platform tenant, owner only).
    pub role: String,
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Input of [`UserAdmin::update`]: at least one field.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    /// New role.
    pub role: Option<String>,
    /// Activate or deactivate.
    pub active: Option<bool>,
}

/// The user administration service.
#[derive(Clone)]
pub struct UserAdmin {
    tenants: Arc<dyn TenantRepo>,
    users: Arc<dyn UserRepo>,
    principals: Arc<Principals>,
}

impl std::fmt::Debug for UserAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAdmin").finish_non_exhaustive()
    }
}

fn parse_role(text: &str) -> Result<Role, ValidationError> {
    text.parse::<Role>()
        .map_err(|_| ValidationError::new("role", ROLES))
}

/// Only the owner grants platform roles.
fn may_grant(caller: &Principal, role: Role) -> Result<(), AdminError> {
    if role.is_platform() && caller.role != Role::Owner {
        return Err(AdminError::Forbidden(format!(
            "only the platform owner may grant the role {role}"
        )));
    }
    Ok(())
}

/// Platform roles live in the platform tenant only, tenant roles everywhere else.
fn fits_tenant(role: Role, tenant: &Tenant) -> Result<(), AdminError> {
    match (tenant.slug.as_str() == PLATFORM_SLUG, role.is_platform()) {
        (true, false) => Err(ValidationError::new("role", PLATFORM_ROLES).into()),
        (false, true) => Err(ValidationError::new("role", TENANT_ROLES).into()),
        _ => Ok(()),
    }
}

/// The e-mail and role of a valid [`CreateUser`], or every problem at once.
fn validated(input: &CreateUser) -> Result<(Email, Role), AdminError> {
    let mut checks = Checks::default();
    let email = checks.check(Email::parse(&input.email));
    checks.check(check_policy(&input.password));
    let role = checks.check(parse_role(&input.role));
    checks.finish()?;
    match (email, role) {
        (Some(email), Some(role)) => Ok((email, role)),
        _ => Err(AdminError::Invalid(Vec::new())),
    }
}

fn require(caller: &Principal, permission: Permission) -> Result<(), AdminError> {
    if caller.may(permission) {
        Ok(())
    } else {
        Err(AdminError::Forbidden(format!(
            "missing permission {permission}"
        )))
    }
}

impl UserAdmin {
    /// A service over the tenant and user repositories; changes invalidate `principals`.
    pub fn new(
        tenants: Arc<dyn TenantRepo>,
        users: Arc<dyn UserRepo>,
        principals: Arc<Principals>,
    ) -> Self {
        Self {
            tenants,
            users,
            principals,
        }
    }

    /// The tenant a call acts on: the caller's, or (owner only) the one asked for. Another
    /// tenant named by anyone else is not found, like every other tenant's resource.
    fn target(&self, caller: &Principal, asked: Option<TenantId>) -> Result<TenantId, AdminError> {
        match asked {
            None => Ok(caller.tenant_id),
            Some(id) if id == caller.tenant_id => Ok(id),
            Some(id) if caller.role == Role::Owner => Ok(self.tenants.get(id)?.id),
            Some(_) => Err(AdminError::NotFound("Tenant")),
        }
    }

    /// A page of the users of the caller's tenant (owner: of `tenant`).
    ///
    /// # Errors
    /// Permission (403), unknown tenant (404), storage failures.
    pub fn list(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        page: &PageRequest,
    ) -> Result<Page<User>, AdminError> {
        require(caller, Permission::ReadUsers)?;
        let tenant = self.target(caller, tenant)?;
        Ok(self.users.list(&caller.acting_in(tenant), page)?)
    }

    /// Creates a user, audited as `user.create`.
    ///
    /// # Errors
    /// Every invalid field (422), a platform role granted by a non-owner or the tenant's
    /// user limit (403), unknown tenant (404), e-mail taken (409), storage failures.
    pub fn create(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        input: CreateUser,
    ) -> Result<User, AdminError> {
        require(caller, Permission::ManageUsers)?;
        let (email, role) = validated(&input)?;
        may_grant(caller, role)?;
        let tenant_id = self.target(caller, tenant)?;
        let note = caller.note("user.create", json!({ "role": role }));
        self.insert(
            &caller.acting_in(tenant_id),
            email,
            role,
            &input.password,
            &note,
        )
    }

    /// Creates a user on the platform operator's behalf (the command line, which has no
    /// caller: it is the operator's own access to the database), audited as `user.create`
    /// with `source: cli` and no user. The same rules as [`Self::create`] otherwise.
    ///
    /// # Errors
    /// Every invalid field (422), the tenant's user limit (403), unknown tenant (404), e-mail
    /// taken in the tenant (409), storage failures.
    pub fn create_by_operator(
        &self,
        tenant: TenantId,
        input: CreateUser,
    ) -> Result<User, AdminError> {
        let (email, role) = validated(&input)?;
        let note = AuditNote {
            user_id: None,
            action: "user.create".to_owned(),
            request_id: None,
            details: json!({ "role": role, "source": "cli" }),
        };
        self.insert(&Actor::system(tenant), email, role, &input.password, &note)
    }

    fn insert(
        &self,
        actor: &Actor,
        email: Email,
        role: Role,
        password: &str,
        note: &AuditNote,
    ) -> Result<User, AdminError> {
        let tenant = self.tenants.get(actor.tenant_id)?;
        fits_tenant(role, &tenant)?;
        let password_hash =
            hash_password(password).map_err(|e| RepoError::Internal(format!("hashing: {e}")))?;
        let new = NewUser {
            tenant_id: tenant.id,
            email,
            password_hash,
            role,
        };
        Ok(self.users.create(actor, new, tenant.max_users, note)?)
    }

    /// Changes a user's role and/or active flag, audited as `user.update`.
    ///
    /// # Errors
    /// An empty change or a bad role (422), a platform role granted by a non-owner (403),
    /// another tenant's user (404), the caller's own role or deactivation (409), storage
    /// failures.
    pub fn update(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        id: UserId,
        input: UpdateUser,
    ) -> Result<User, AdminError> {
        require(caller, Permission::ManageUsers)?;
        let role = input.role.as_deref().map(parse_role).transpose()?;
        if role.is_none() && input.active.is_none() {
            return Err(ValidationError::new("body", "give role and/or active").into());
        }
        if let Some(role) = role {
            may_grant(caller, role)?;
        }
        let demotes = role.is_some_and(|r| r != caller.role) || input.active == Some(false);
        if id == caller.user_id && demotes {
            return Err(AdminError::Conflict(SELF_LOCKOUT.to_owned()));
        }
        let tenant_id = self.target(caller, tenant)?;
        if let Some(role) = role {
            fits_tenant(role, &self.tenants.get(tenant_id)?)?;
        }
        let patch = UserPatch {
            role,
            active: input.active,
            password_hash: None,
        };
        let details = json!({ "role": role, "active": input.active });
        let user = self.users.update(
            &caller.acting_in(tenant_id),
            id,
            patch,
            &caller.note("user.update", details),
        )?;
        // Role and status are part of every principal verdict: forget the cached ones.
        self.principals.invalidate();
        Ok(user)
    }
}
