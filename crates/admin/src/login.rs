//! Login: e-mail and password to a signed access token.
//!
//! An unknown e-mail and a wrong password get the same answer after the same argon2 work
//! (the unknown e-mail is verified against [`crate::password::DUMMY_HASH`]), so neither the
//! answer nor its timing tells which addresses exist.

use std::{sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{TenantRepo, UserRepo},
    Email, RepoError, TenantId, TenantStatus, UserId,
};
use tenant_auth::TokenIssuer;

use crate::password::{verify_password, DUMMY_HASH};

/// A successful login.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The signed JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// The user.
    pub user_id: UserId,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_in", &self.expires_in)
            .field("tenant_id", &self.tenant_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// Unknown e-mail, wrong password or inactive user (one answer for all three).
    #[error("invalid email or password")]
    BadCredentials,
    /// The user's tenant is suspended or cancelled.
    #[error("tenant {0}")]
    TenantInactive(TenantStatus),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The token could not be signed.
    #[error("token issue failed: {0}")]
    Issue(#[from] tenant_auth::AuthError),
}

/// The login service.
pub struct Login {
    users: Arc<dyn UserRepo>,
    tenants: Arc<dyn TenantRepo>,
    issuer: Arc<TokenIssuer>,
    ttl: Duration,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// A login service issuing tokens valid for `ttl`.
    pub fn new(
        users: Arc<dyn UserRepo>,
        tenants: Arc<dyn TenantRepo>,
        issuer: Arc<TokenIssuer>,
        ttl: Duration,
    ) -> Self {
        Self {
            users,
            tenants,
            issuer,
            ttl,
        }
    }

    /// Lifetime of issued tokens.
    pub fn token_ttl(&self) -> Duration {
        self.ttl
    }

    /// Checks the credentials and issues a token. Blocking (argon2 and the database): call
    /// it off the async workers.
    ///
    /// # Errors
    /// [`LoginError::BadCredentials`] for an unknown e-mail, a wrong password or an inactive
    /// user; [`LoginError::TenantInactive`]; storage and signing failures.
    pub fn login(&self, email: &str, password: &str) -> Result<Token, LoginError> {
        let found = match Email::parse(email) {
            Ok(email) => self.users.find_credentials(&email)?,
            Err(_) => None,
        };
        // Always one argon2 verification, so timing does not reveal known e-mails.
        let (hash, candidate) = match &found {
            Some(creds) => (creds.password_hash.as_str(), Some(&creds.user)),
            None => (DUMMY_HASH, None),
        };
        let matches = verify_password(password, hash);
        let user = match candidate {
            Some(user) if matches && user.active => user,
            _ => {
                tracing::info!("login refused");
                return Err(LoginError::BadCredentials);
            }
        };
        let tenant = self.tenants.get(user.tenant_id)?;
        if tenant.status != TenantStatus::Active {
            return Err(LoginError::TenantInactive(tenant.status));
        }
        let access_token = self.issuer.issue(
            user.id.as_uuid(),
            user.tenant_id.as_uuid(),
            user.role,
            self.ttl,
        )?;
        tracing::info!(
            "[Tenant: {}] [User: {}] login succeeded",
            user.tenant_id,
            user.id
        );
        Ok(Token {
            access_token,
            expires_in: self.ttl.as_secs(),
            tenant_id: user.tenant_id,
            user_id: user.id,
        })
    }
}
