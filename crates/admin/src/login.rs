//! Login: e-mail and password to a signed access token.
//!
//! An unknown e-mail and a wrong password get the same answer after the same argon2 work
//! (the unknown e-mail is verified against [`crate::password::DUMMY_HASH`]), so neither the
//! answer nor its timing tells which addresses exist.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{Credentials, TenantRepo, UserRepo},
    Email, RepoError, TenantId, TenantStatus, UserId,
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tenant_auth::TokenIssuer;

use crate::{hashing::HashPool, password::DUMMY_HASH};

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
    /// Too many attempts for this account: retry after this many seconds.
    #[error("too many login attempts for this account")]
    Throttled {
        /// Seconds until an attempt is allowed again.
        retry_after_secs: u64,
    },
    /// Password hashing is saturated (a login flood): retry shortly.
    #[error("login is busy; retry shortly")]
    Busy,
}

/// The login service.
pub struct Login {
    users: Arc<dyn UserRepo>,
    tenants: Arc<dyn TenantRepo>,
    issuer: Arc<TokenIssuer>,
    ttl: Duration,
    hashes: HashPool,
    accounts: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// How attempts per account are limited and where passwords are hashed.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Attempts per account (e-mail) per minute, failed or not.
    pub per_account_per_minute: NonZeroU32,
    /// Password-hashing threads.
    pub hash_workers: usize,
    /// Logins that may wait for a hashing thread before the next is refused (503).
    pub hash_queue: usize,
}

impl Default for LoginLimits {
    /// 10 attempts per account per minute; 2 hashing threads with 64 waiting.
    fn default() -> Self {
        Self {
            per_account_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            hash_workers: 2,
            hash_queue: 64,
        }
    }
}

impl Login {
    /// A login service issuing tokens valid for `ttl`.
    pub fn new(
        users: Arc<dyn UserRepo>,
        tenants: Arc<dyn TenantRepo>,
        issuer: Arc<TokenIssuer>,
        ttl: Duration,
        limits: &LoginLimits,
    ) -> Self {
        Self {
            users,
            tenants,
            issuer,
            ttl,
            hashes: HashPool::new(limits.hash_workers, limits.hash_queue),
            accounts: RateLimiter::keyed(Quota::per_minute(limits.per_account_per_minute)),
        }
    }

    /// Forgets idle per-account counters (memory stays bounded).
    pub fn prune(&self) {
        self.accounts.retain_recent();
        self.accounts.shrink_to_fit();
    }

    /// The per-account attempt limit: the key is the normalised e-mail (what was typed, in
    /// lower case, when it is not an e-mail at all).
    fn throttle(&self, email: &str) -> Result<(), LoginError> {
        let key = Email::parse(email).map_or_else(
            |_| email.trim().to_ascii_lowercase(),
            |e| e.as_str().to_owned(),
        );
        self.accounts
            .check_key(&key)
            .map_err(|not_until| LoginError::Throttled {
                retry_after_secs: crate::retry_after_secs(&not_until),
            })
    }

    /// Checks the credentials and issues a token: the database reads on the blocking pool,
    /// argon2 on the password-hashing pool (never on the threads database work runs on).
    ///
    /// # Errors
    /// [`LoginError::Throttled`] past the per-account limit; [`LoginError::BadCredentials`]
    /// for an unknown e-mail, a wrong password or an inactive user;
    /// [`LoginError::TenantInactive`]; [`LoginError::Busy`] when hashing is saturated;
    /// storage and signing failures.
    pub async fn login(
        self: &Arc<Self>,
        email: String,
        password: String,
    ) -> Result<Token, LoginError> {
        self.throttle(&email)?;
        let span = tracing::Span::current();
        let this = self.clone();
        let found = blocking(span.clone(), move || this.lookup(&email)).await?;
        // Always one argon2 verification, so timing does not reveal known e-mails.
        let hash = found
            .as_ref()
            .map_or_else(|| DUMMY_HASH.to_owned(), |c| c.password_hash.clone());
        let matches = self
            .hashes
            .verify(password, hash)
            .await
            .map_err(|_| LoginError::Busy)?;
        let this = self.clone();
        blocking(span, move || this.finish(found, matches)).await
    }

    fn lookup(&self, email: &str) -> Result<Option<Credentials>, LoginError> {
        Ok(match Email::parse(email) {
            Ok(email) => self.users.find_credentials(&email)?,
            Err(_) => None,
        })
    }

    fn finish(&self, found: Option<Credentials>, matches: bool) -> Result<Token, LoginError> {
        let user = match found {
            Some(creds) if matches && creds.user.active => creds.user,
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

    /// Lifetime of issued tokens.
    pub fn token_ttl(&self) -> Duration {
        self.ttl
    }
}

/// Runs blocking work on the blocking pool in `span`.
async fn blocking<T: Send + 'static>(
    span: tracing::Span,
    work: impl FnOnce() -> Result<T, LoginError> + Send + 'static,
) -> Result<T, LoginError> {
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|e| LoginError::Repo(RepoError::Internal(format!("login task failed: {e}"))))?
}
