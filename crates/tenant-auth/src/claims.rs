//! Token claims and the per-request tenant context derived from them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AuthError, Permission, Role};

/// The current time as whole seconds since the Unix epoch (0 if the system
/// clock is before 1970).
#[must_use]
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) fn duration_secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The JWT payload used by this crate.
///
/// Times (`exp`, `iat`, `nbf`) are seconds since the Unix epoch. Optional
/// fields are omitted from the JSON when `None`.
///
/// When a token is verified, `sub`, `tenant_id`, `role`, `iss`, `aud`, `exp`
/// and `iat` must be present. A verified token's `aud` may be a string or an
/// array of strings; after verification [`Claims::aud`] holds the configured
/// audience that matched.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tenant_auth::{Claims, Role};
/// use uuid::Uuid;
///
/// let claims = Claims::new(
///     Uuid::new_v4(), Uuid::new_v4(), Role::Viewer,
///     "https://auth.example", "alphapulse-api",
///     1_700_000_000, Duration::from_secs(900),
/// )
/// .with_email("ann@example.com");
/// assert_eq!(claims.exp, 1_700_000_900);
/// assert!(claims.jti.is_some());
/// let json = serde_json::to_value(&claims)?;
/// assert_eq!(json["role"], "viewer");
/// assert!(json.get("nbf").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the user id.
    pub sub: Uuid,
    /// The tenant the token is scoped to.
    pub tenant_id: Uuid,
    /// The principal's role.
    pub role: Role,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The user's e-mail address, informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Claims {
    /// Claims for `user_id` in `tenant_id` with `role`, issued at `issued_at`
    /// and expiring `ttl` later, with a random (UUID v4) `jti`.
    #[must_use]
    pub fn new(
        user_id: Uuid,
        tenant_id: Uuid,
        role: Role,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        issued_at: i64,
        ttl: Duration,
    ) -> Self {
        Claims {
            sub: user_id,
            tenant_id,
            role,
            iss: issuer.into(),
            aud: audience.into(),
            exp: issued_at.saturating_add(duration_secs(ttl)),
            iat: issued_at,
            nbf: None,
            jti: Some(Uuid::new_v4().to_string()),
            email: None,
        }
    }

    /// Sets `email`.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets `nbf`.
    #[must_use]
    pub fn with_not_before(mut self, nbf: i64) -> Self {
        self.nbf = Some(nbf);
        self
    }

    /// The tenant context these claims describe.
    #[must_use]
    pub fn context(&self) -> TenantContext {
        TenantContext::from(self)
    }
}

/// Who is calling, for which tenant, with which role: built from verified
/// [`Claims`] and handed to request handlers.
///
/// With the `actix` feature, `TenantContext` is an actix-web extractor (see
/// the crate docs).
///
/// # Examples
///
/// ```
/// use tenant_auth::{AuthError, Permission, Role, TenantContext};
/// use uuid::Uuid;
///
/// let ctx = TenantContext { tenant_id: Uuid::new_v4(), user_id: Uuid::new_v4(), role: Role::Viewer };
/// assert!(ctx.require(Permission::ReadTenantData).is_ok());
/// assert!(matches!(ctx.require(Permission::Trade), Err(AuthError::Forbidden(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TenantContext {
    /// The tenant the token is scoped to (`tenant_id` claim).
    pub tenant_id: Uuid,
    /// The user (`sub` claim).
    pub user_id: Uuid,
    /// The role (`role` claim).
    pub role: Role,
}

impl TenantContext {
    /// Whether the role grants `permission` (see [`Role::allows`]).
    #[must_use]
    pub fn allows(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }

    /// `Ok(())` if the role grants `permission`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Forbidden`] with the reason `"missing permission <name>"`.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if self.allows(permission) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "missing permission {permission}"
            )))
        }
    }

    /// `true` for platform roles (`owner`, `staff`).
    #[must_use]
    pub fn is_platform(&self) -> bool {
        self.role.is_platform()
    }

    /// `Ok(())` if the caller may act on `tenant_id`: platform roles may act
    /// on any tenant, tenant roles only on their own. Combine with
    /// [`require`](Self::require) for the action itself.
    ///
    /// # Errors
    ///
    /// [`AuthError::Forbidden`] (`"tenant mismatch"`) for a tenant role and a
    /// different tenant.
    ///
    /// # Examples
    ///
    /// ```
    /// use tenant_auth::{Role, TenantContext};
    /// use uuid::Uuid;
    ///
    /// let mine = Uuid::new_v4();
    /// let ctx = TenantContext { tenant_id: mine, user_id: Uuid::new_v4(), role: Role::Admin };
    /// assert!(ctx.require_tenant(mine).is_ok());
    /// assert!(ctx.require_tenant(Uuid::new_v4()).is_err());
    /// ```
    pub fn require_tenant(&self, tenant_id: Uuid) -> Result<(), AuthError> {
        if self.is_platform() || self.tenant_id == tenant_id {
            Ok(())
        } else {
            Err(AuthError::Forbidden("tenant mismatch".into()))
        }
    }
}

impl From<&Claims> for TenantContext {
    fn from(claims: &Claims) -> Self {
        TenantContext {
            tenant_id: claims.tenant_id,
            user_id: claims.sub,
            role: claims.role,
        }
    }
}

impl From<Claims> for TenantContext {
    fn from(claims: Claims) -> Self {
        TenantContext::from(&claims)
    }
}
