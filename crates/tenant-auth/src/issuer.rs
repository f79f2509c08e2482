//! Issuing tokens.

use std::time::Duration;

use uuid::Uuid;

use crate::claims::unix_now;
use crate::{AuthError, Claims, KeySet, Role};

/// Signs tokens with the active key of a [`KeySet`], filling `iss`, `aud`,
/// `iat`, `exp` and a random `jti`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tenant_auth::{KeySet, Role, TokenIssuer};
/// use uuid::Uuid;
///
/// let keys = KeySet::hs256("k1", "0123456789abcdef0123456789abcdef")?;
/// let issuer = TokenIssuer::new(keys, "https://auth.example", "alphapulse-api")?;
/// let token = issuer.issue(Uuid::new_v4(), Uuid::new_v4(), Role::Trader, Duration::from_secs(900))?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), tenant_auth::AuthError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    keys: KeySet,
    issuer: String,
    audience: String,
}

impl TokenIssuer {
    /// An issuer signing with `keys`' active key, writing `issuer` into `iss`
    /// and `audience` into `aud`.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoSigningKey`] if `keys` has no active key or the active
    /// key has no private half.
    pub fn new(
        keys: KeySet,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, AuthError> {
        match keys.active() {
            Some(key) if key.can_sign() => {}
            Some(key) => {
                return Err(AuthError::NoSigningKey(format!(
                    "active kid `{}` has no private key",
                    key.kid()
                )))
            }
            None => return Err(AuthError::NoSigningKey("no active key".into())),
        }
        Ok(TokenIssuer {
            keys,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// The `iss` written into issued tokens.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` written into issued tokens.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key set in use.
    #[must_use]
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The claims [`issue_at`](Self::issue_at) would sign (with a fresh `jti`),
    /// for callers that want to add `email`/`nbf` before [`sign`](Self::sign).
    #[must_use]
    pub fn claims_at(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
        role: Role,
        ttl: Duration,
        now: i64,
    ) -> Claims {
        Claims::new(
            user_id,
            tenant_id,
            role,
            &*self.issuer,
            &*self.audience,
            now,
            ttl,
        )
    }

    /// Signs `claims` exactly as given (header: key's `alg`, `kid`, `typ: JWT`).
    ///
    /// # Errors
    ///
    /// [`AuthError::Signing`] if the crypto backend fails.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        self.keys.sign(claims)
    }

    /// Issues a token for `user_id` in `tenant_id` with `role`, valid for `ttl`
    /// from now (system clock).
    ///
    /// # Errors
    ///
    /// [`AuthError::Signing`] if the crypto backend fails.
    pub fn issue(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
        role: Role,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        self.issue_at(user_id, tenant_id, role, ttl, unix_now())
    }

    /// As [`issue`](Self::issue) with an explicit "now" (seconds since the epoch).
    ///
    /// # Errors
    ///
    /// [`AuthError::Signing`] if the crypto backend fails.
    pub fn issue_at(
        &self,
        user_id: Uuid,
        tenant_id: Uuid,
        role: Role,
        ttl: Duration,
        now: i64,
    ) -> Result<String, AuthError> {
        self.sign(&self.claims_at(user_id, tenant_id, role, ttl, now))
    }
}
