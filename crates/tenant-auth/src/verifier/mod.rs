//! Verifying tokens: signature, required claims, time window, issuer, audience.
//!
//! `payload` checks the shape of a signed payload; `cache` remembers verified
//! signatures.

mod cache;
mod payload;

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use self::cache::SignatureCache;
use self::payload::{decode_json_object, VerifiedToken};
use crate::claims::{duration_secs, unix_now};
use crate::{AuthError, Claims, KeySet, TenantContext};

pub use self::cache::CacheStats;

/// Tokens longer than this many bytes are rejected as [`AuthError::Malformed`]
/// before any parsing or hashing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Default number of verified signatures remembered by a [`TokenVerifier`].
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;

/// What a [`TokenVerifier`] accepts.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tenant_auth::VerifierConfig;
///
/// let config = VerifierConfig::new("https://auth.example", "alphapulse-api");
/// assert_eq!(config.leeway, Duration::from_secs(30));
/// let strict = config.with_leeway(Duration::ZERO);
/// assert_eq!(strict.leeway, Duration::ZERO);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The only accepted `iss`.
    pub issuer: String,
    /// The audience that `aud` (a string, or an array of strings) must contain.
    pub audience: String,
    /// Allowed clock skew for `exp` and `nbf`, in whole seconds (sub-second
    /// parts are ignored). A token is accepted while
    /// `now <= exp + leeway` and `now >= nbf - leeway`.
    pub leeway: Duration,
}

impl VerifierConfig {
    /// The default leeway: 30 seconds.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

    /// A config for `issuer` and `audience` with the default leeway (30 s).
    #[must_use]
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Self::DEFAULT_LEEWAY,
        }
    }

    /// Sets the leeway.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
}
/// Verifies tokens against a [`KeySet`] and a [`VerifierConfig`].
///
/// Verification, in order:
///
/// 1. The token is split into header, payload and signature (at most
///    [`MAX_TOKEN_LEN`] bytes). The header's `kid` selects the key (no `kid`:
///    the key set's default key); the header's `alg` must equal that key's
///    algorithm, otherwise [`AuthError::AlgorithmNotAllowed`] (so `alg: none`
///    and algorithm-confusion tokens fail). A `crit` header is rejected.
/// 2. The signature is checked with that key. Successfully verified tokens are
///    remembered in a bounded cache (least recently used entry evicted first)
///    keyed by the SHA-256 of the token, so a repeated token skips this step
///    (and step 3).
/// 3. `sub`, `tenant_id`, `role`, `iss`, `aud`, `exp` and `iat` must be
///    present and well-typed ([`AuthError::MissingClaim`] /
///    [`AuthError::InvalidClaim`]); `nbf`, `jti`, `email` are optional.
/// 4. Every time, cache hit or not: `exp`, `nbf` (with leeway), `iss` and
///    `aud` are checked against "now" and the config.
///
/// `TokenVerifier` is `Send + Sync`; share it behind an `Arc`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tenant_auth::{AuthError, KeySet, Role, TokenIssuer, TokenVerifier, VerifierConfig};
/// use uuid::Uuid;
///
/// let keys = KeySet::hs256("k1", "0123456789abcdef0123456789abcdef")?;
/// let issuer = TokenIssuer::new(keys.clone(), "iss", "aud")?;
/// let verifier = TokenVerifier::new(keys, VerifierConfig::new("iss", "aud"));
///
/// let now = 1_700_000_000;
/// let token = issuer.issue_at(Uuid::new_v4(), Uuid::new_v4(), Role::Admin, Duration::from_secs(60), now)?;
/// let claims = verifier.verify_at(&token, now)?;
/// assert_eq!(claims.role, Role::Admin);
/// // 60 s TTL + 30 s leeway: accepted at +90, rejected at +91.
/// assert!(verifier.verify_at(&token, now + 90).is_ok());
/// assert!(matches!(verifier.verify_at(&token, now + 91), Err(AuthError::Expired)));
/// # Ok::<(), AuthError>(())
/// ```
pub struct TokenVerifier {
    keys: RwLock<Arc<KeySet>>,
    config: VerifierConfig,
    cache: SignatureCache,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("keys", &self.keys_snapshot().kids().collect::<Vec<_>>())
            .field("config", &self.config)
            .field("cache", &self.cache_stats())
            .finish()
    }
}

impl TokenVerifier {
    /// A verifier with the default cache capacity ([`DEFAULT_CACHE_CAPACITY`]).
    #[must_use]
    pub fn new(keys: KeySet, config: VerifierConfig) -> Self {
        TokenVerifier {
            keys: RwLock::new(Arc::new(keys)),
            config,
            cache: SignatureCache::new(DEFAULT_CACHE_CAPACITY),
        }
    }

    /// Sets the signature cache capacity in entries (when full, the least
    /// recently used entry is evicted); `0` disables the cache.
    #[must_use]
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = SignatureCache::new(capacity);
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// The current key set.
    #[must_use]
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys_snapshot()
    }

    /// Replaces the key set (e.g. after reloading the key file) and clears the
    /// signature cache, so tokens of removed keys stop verifying at once.
    pub fn replace_keys(&self, keys: KeySet) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        self.cache.clear();
    }

    /// Cache counters.
    #[must_use]
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Verifies `token` at the current system time.
    ///
    /// # Errors
    ///
    /// See [`verify_at`](Self::verify_at).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_at(token, unix_now())
    }

    /// Verifies `token` as if the time were `now` (seconds since the epoch).
    /// On success the returned claims' `aud` is the configured audience.
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingToken`] (empty token), [`AuthError::Malformed`],
    /// [`AuthError::UnknownKey`], [`AuthError::AlgorithmNotAllowed`],
    /// [`AuthError::InvalidSignature`], [`AuthError::MissingClaim`],
    /// [`AuthError::InvalidClaim`], [`AuthError::Expired`],
    /// [`AuthError::NotYetValid`], [`AuthError::WrongIssuer`],
    /// [`AuthError::WrongAudience`].
    pub fn verify_at(&self, token: &str, now: i64) -> Result<Claims, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let verified = match self.cache.get(&digest) {
            Some(hit) => hit,
            None => {
                let generation = self.cache.generation();
                let verified = Arc::new(self.verify_signature_and_shape(token)?);
                self.cache.insert(generation, digest, Arc::clone(&verified));
                verified
            }
        };
        self.check_claims(&verified, now)
    }

    /// [`verify`](Self::verify) and convert to a [`TenantContext`].
    ///
    /// # Errors
    ///
    /// As [`verify_at`](Self::verify_at).
    pub fn verify_context(&self, token: &str) -> Result<TenantContext, AuthError> {
        self.verify(token).map(|c| TenantContext::from(&c))
    }

    fn keys_snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn verify_signature_and_shape(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        let header = decode_json_object(header_b64)?;
        if header.contains_key("crit") {
            return Err(AuthError::Malformed);
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(AuthError::Malformed)?;
        let kid = match header.get("kid") {
            None | Some(Value::Null) => None,
            Some(Value::String(kid)) => Some(kid.as_str()),
            Some(_) => return Err(AuthError::Malformed),
        };

        let keys = self.keys_snapshot();
        let key = keys.verification_key(kid)?;
        // The algorithm is the key's; the header may only agree with it.
        if alg != key.algorithm().as_str() {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let signed_len = header_b64.len() + 1 + payload_b64.len();
        key.verify_signature(&token.as_bytes()[..signed_len], signature)?;

        let payload = decode_json_object(payload_b64)?;
        VerifiedToken::from_payload(&payload)
    }

    fn check_claims(&self, token: &VerifiedToken, now: i64) -> Result<Claims, AuthError> {
        let leeway = duration_secs(self.config.leeway);
        if now > token.exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = token.nbf {
            if now < nbf.saturating_sub(leeway) {
                return Err(AuthError::NotYetValid);
            }
        }
        if token.iss != self.config.issuer {
            return Err(AuthError::WrongIssuer);
        }
        if !token.aud.contains(&self.config.audience) {
            return Err(AuthError::WrongAudience);
        }
        Ok(Claims {
            sub: token.sub,
            tenant_id: token.tenant_id,
            role: token.role,
            iss: token.iss.clone(),
            aud: self.config.audience.clone(),
            exp: token.exp,
            iat: token.iat,
            nbf: token.nbf,
            jti: token.jti.clone(),
            email: token.email.clone(),
        })
    }
}
