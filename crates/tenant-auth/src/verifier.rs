//! Verifying tokens: signature, required claims, time window, issuer, audience.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::claims::{duration_secs, unix_now};
use crate::{AuthError, Claims, KeySet, Role, TenantContext};

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

/// Counters of a verifier's signature cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Entries currently cached.
    pub entries: usize,
    /// Maximum number of entries (0: cache disabled).
    pub capacity: usize,
    /// Verifications that skipped the signature check.
    pub hits: u64,
    /// Verifications that had to check the signature.
    pub misses: u64,
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
///    remembered in a bounded cache keyed by the SHA-256 of the token, so a
///    repeated token skips this step (and step 3).
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

    /// Sets the signature cache capacity; `0` disables the cache.
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

fn decode_json_object(part: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AuthError::Malformed),
    }
}

/// A token whose signature and claim shapes have been checked; the
/// time/issuer/audience checks still have to be made.
#[derive(Debug)]
struct VerifiedToken {
    sub: Uuid,
    tenant_id: Uuid,
    role: Role,
    iss: String,
    aud: Vec<String>,
    exp: i64,
    iat: i64,
    nbf: Option<i64>,
    jti: Option<String>,
    email: Option<String>,
}

impl VerifiedToken {
    fn from_payload(map: &Map<String, Value>) -> Result<Self, AuthError> {
        let aud = match required(map, "aud")? {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or(AuthError::InvalidClaim("aud"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(AuthError::InvalidClaim("aud")),
        };
        Ok(VerifiedToken {
            sub: parse_str(map, "sub")?,
            tenant_id: parse_str(map, "tenant_id")?,
            role: parse_str(map, "role")?,
            iss: required_str(map, "iss")?.to_owned(),
            aud,
            exp: required_int(map, "exp")?,
            iat: required_int(map, "iat")?,
            nbf: optional(map, "nbf")
                .map(|v| v.as_i64().ok_or(AuthError::InvalidClaim("nbf")))
                .transpose()?,
            jti: optional_str(map, "jti")?,
            email: optional_str(map, "email")?,
        })
    }
}

fn optional<'a>(map: &'a Map<String, Value>, name: &'static str) -> Option<&'a Value> {
    map.get(name).filter(|v| !v.is_null())
}

fn required<'a>(map: &'a Map<String, Value>, name: &'static str) -> Result<&'a Value, AuthError> {
    optional(map, name).ok_or(AuthError::MissingClaim(name))
}

fn required_str<'a>(map: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, AuthError> {
    required(map, name)?
        .as_str()
        .ok_or(AuthError::InvalidClaim(name))
}

fn required_int(map: &Map<String, Value>, name: &'static str) -> Result<i64, AuthError> {
    required(map, name)?
        .as_i64()
        .ok_or(AuthError::InvalidClaim(name))
}

fn parse_str<T: FromStr>(map: &Map<String, Value>, name: &'static str) -> Result<T, AuthError> {
    required_str(map, name)?
        .parse()
        .map_err(|_| AuthError::InvalidClaim(name))
}

fn optional_str(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>, AuthError> {
    optional(map, name)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(AuthError::InvalidClaim(name))
        })
        .transpose()
}

/// A bounded FIFO map from token digest to verified payload.
struct SignatureCache {
    capacity: usize,
    inner: Mutex<CacheInner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<[u8; 32], Arc<VerifiedToken>>,
    order: VecDeque<[u8; 32]>,
    /// Bumped by `clear`; an insert computed under an older generation (i.e.
    /// with keys that have since been replaced) is dropped.
    generation: u64,
}

impl SignatureCache {
    fn new(capacity: usize) -> Self {
        SignatureCache {
            capacity,
            inner: Mutex::new(CacheInner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, digest: &[u8; 32]) -> Option<Arc<VerifiedToken>> {
        let hit = if self.capacity == 0 {
            None
        } else {
            self.lock().map.get(digest).cloned()
        };
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn insert(&self, generation: u64, digest: [u8; 32], token: Arc<VerifiedToken>) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation || inner.map.contains_key(&digest) {
            return;
        }
        while inner.map.len() >= self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => {
                    inner.map.remove(&oldest);
                }
                None => break,
            }
        }
        inner.map.insert(digest, token);
        inner.order.push_back(digest);
    }

    fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
        inner.generation = inner.generation.wrapping_add(1);
    }

    fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.lock().map.len(),
            capacity: self.capacity,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dummy() -> Arc<VerifiedToken> {
        Arc::new(VerifiedToken {
            sub: Uuid::nil(),
            tenant_id: Uuid::nil(),
            role: Role::Viewer,
            iss: String::new(),
            aud: vec![],
            exp: 0,
            iat: 0,
            nbf: None,
            jti: None,
            email: None,
        })
    }

    #[test]
    fn cache_is_bounded_fifo() {
        let cache = SignatureCache::new(3);
        for i in 0u8..5 {
            cache.insert(0, [i; 32], dummy());
        }
        assert_eq!(cache.stats().entries, 3);
        assert!(cache.get(&[0; 32]).is_none());
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[4; 32]).is_some());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        cache.clear();
        assert_eq!(cache.stats().entries, 0);
        cache.insert(0, [9; 32], dummy());
        assert!(
            cache.get(&[9; 32]).is_none(),
            "stale generation is not cached"
        );
        cache.insert(cache.generation(), [9; 32], dummy());
        assert!(cache.get(&[9; 32]).is_some());
    }

    #[test]
    fn zero_capacity_disables_cache() {
        let cache = SignatureCache::new(0);
        cache.insert(0, [1; 32], dummy());
        assert!(cache.get(&[1; 32]).is_none());
        assert_eq!(cache.stats().entries, 0);
    }
}
