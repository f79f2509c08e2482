//! Signing/verification keys, key sets for rotation, and the key file format.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::{AuthError, Claims};

/// Minimum length of an HS256 secret, in bytes (the size of the SHA-256 output).
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// The signature algorithms this crate supports. The algorithm belongs to a
/// [`Key`]; it is never taken from a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    /// HMAC with SHA-256 (shared secret of at least 32 bytes).
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl KeyAlgorithm {
    /// The JOSE name, as used in the `alg` header and in key files.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::HS256 => "HS256",
            KeyAlgorithm::RS256 => "RS256",
            KeyAlgorithm::ES256 => "ES256",
            KeyAlgorithm::EdDSA => "EdDSA",
        }
    }

    const fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::HS256 => Algorithm::HS256,
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "HS256" => Ok(KeyAlgorithm::HS256),
            "RS256" => Ok(KeyAlgorithm::RS256),
            "ES256" => Ok(KeyAlgorithm::ES256),
            "EdDSA" => Ok(KeyAlgorithm::EdDSA),
            other => Err(AuthError::KeyParse(format!(
                "unsupported algorithm `{}` (expected HS256, RS256, ES256 or EdDSA)",
                other.chars().take(16).collect::<String>()
            ))),
        }
    }
}

/// One key: a `kid`, its fixed algorithm, the verification half and, if it
/// can sign, the signing half.
///
/// `Debug` output never contains key material.
///
/// # Examples
///
/// ```
/// use tenant_auth::{AuthError, Key, KeyAlgorithm};
///
/// let key = Key::hs256("k1", [7u8; 32])?;
/// assert_eq!(key.kid(), "k1");
/// assert_eq!(key.algorithm(), KeyAlgorithm::HS256);
/// assert!(key.can_sign());
/// assert!(matches!(Key::hs256("k1", b"too short"), Err(AuthError::WeakSecret)));
/// # Ok::<(), AuthError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    kid: String,
    alg: KeyAlgorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("can_sign", &self.can_sign())
            .finish_non_exhaustive()
    }
}

const PAIR_CHECK_MESSAGE: &[u8] = b"tenant-auth key pair check";

impl Key {
    /// An HS256 key from raw secret bytes (not base64).
    ///
    /// # Errors
    ///
    /// [`AuthError::WeakSecret`] if the secret is shorter than
    /// [`MIN_HS256_SECRET_LEN`] bytes; [`AuthError::KeyParse`] for an empty `kid`.
    pub fn hs256(kid: impl Into<String>, secret: impl AsRef<[u8]>) -> Result<Self, AuthError> {
        let kid = checked_kid(kid.into())?;
        let secret = secret.as_ref();
        if secret.len() < MIN_HS256_SECRET_LEN {
            return Err(AuthError::WeakSecret);
        }
        Ok(Key {
            kid,
            alg: KeyAlgorithm::HS256,
            decoding: DecodingKey::from_secret(secret),
            encoding: Some(EncodingKey::from_secret(secret)),
        })
    }

    /// An RS256 key pair from PEM (public: SPKI `PUBLIC KEY` or PKCS#1
    /// `RSA PUBLIC KEY`; private: PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for unparseable PEM or a private key that does
    /// not belong to the public key.
    pub fn rs256(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        Key::from_pem(
            kid,
            KeyAlgorithm::RS256,
            public_pem.as_ref(),
            Some(private_pem.as_ref()),
        )
    }

    /// A verify-only RS256 key from a public PEM.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for unparseable PEM.
    pub fn rs256_public(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        Key::from_pem(kid, KeyAlgorithm::RS256, public_pem.as_ref(), None)
    }

    /// An ES256 (P-256) key pair from PEM (public: SPKI `PUBLIC KEY`;
    /// private: PKCS#8 `PRIVATE KEY`; convert a SEC1 `EC PRIVATE KEY` with
    /// `openssl pkcs8 -topk8 -nocrypt`).
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for unparseable PEM or a mismatched pair.
    pub fn es256(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        Key::from_pem(
            kid,
            KeyAlgorithm::ES256,
            public_pem.as_ref(),
            Some(private_pem.as_ref()),
        )
    }

    /// A verify-only ES256 key from a public PEM.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for unparseable PEM.
    pub fn es256_public(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        Key::from_pem(kid, KeyAlgorithm::ES256, public_pem.as_ref(), None)
    }

    /// An EdDSA (Ed25519) key pair from PEM (SPKI `PUBLIC KEY`, PKCS#8 `PRIVATE KEY`).
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for unparseable PEM or a mismatched pair.
    pub fn eddsa(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        Key::from_pem(
            kid,
            KeyAlgorithm::EdDSA,
            public_pem.as_ref(),
            Some(private_pem.as_ref()),
        )
    }

    /// A verify-only EdDSA key from a public PEM.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for unparseable PEM.
    pub fn eddsa_public(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        Key::from_pem(kid, KeyAlgorithm::EdDSA, public_pem.as_ref(), None)
    }

    /// An asymmetric key from PEM, verify-only when `private_pem` is `None`.
    /// When both halves are given they are checked to belong together.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for `HS256` (use [`Key::hs256`]), unparseable
    /// PEM, or a mismatched pair.
    pub fn from_pem(
        kid: impl Into<String>,
        alg: KeyAlgorithm,
        public_pem: &[u8],
        private_pem: Option<&[u8]>,
    ) -> Result<Self, AuthError> {
        let kid = checked_kid(kid.into())?;
        let bad =
            |half: &str| AuthError::KeyParse(format!("kid `{kid}`: invalid {alg} {half} key PEM"));
        let decoding = match alg {
            KeyAlgorithm::HS256 => {
                return Err(AuthError::KeyParse(format!(
                    "kid `{kid}`: HS256 keys take a secret, not PEM"
                )))
            }
            KeyAlgorithm::RS256 => DecodingKey::from_rsa_pem(public_pem),
            KeyAlgorithm::ES256 => DecodingKey::from_ec_pem(public_pem),
            KeyAlgorithm::EdDSA => DecodingKey::from_ed_pem(public_pem),
        }
        .map_err(|_| bad("public"))?;
        let encoding = match private_pem {
            None => None,
            Some(pem) => Some(
                match alg {
                    KeyAlgorithm::RS256 => EncodingKey::from_rsa_pem(pem),
                    KeyAlgorithm::ES256 => EncodingKey::from_ec_pem(pem),
                    _ => EncodingKey::from_ed_pem(pem),
                }
                .map_err(|_| bad("private"))?,
            ),
        };
        let key = Key {
            kid,
            alg,
            decoding,
            encoding,
        };
        key.check_pair()?;
        Ok(key)
    }

    /// Signs a fixed message with the private half and verifies it with the
    /// public half, so a mismatched or unusable pair fails at load time.
    fn check_pair(&self) -> Result<(), AuthError> {
        let Some(encoding) = &self.encoding else {
            return Ok(());
        };
        let kid = &self.kid;
        let signature = jsonwebtoken::crypto::sign(PAIR_CHECK_MESSAGE, encoding, self.alg.jwt())
            .map_err(|_| AuthError::KeyParse(format!("kid `{kid}`: private key cannot sign")))?;
        match self.verify_signature(PAIR_CHECK_MESSAGE, &signature) {
            Ok(()) => Ok(()),
            Err(_) => Err(AuthError::KeyParse(format!(
                "kid `{kid}`: private key does not match public key"
            ))),
        }
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's (only) algorithm.
    #[must_use]
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// Whether the key has a private half (HS256 keys always can sign).
    #[must_use]
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// This key without its private half.
    #[must_use]
    pub fn public_only(&self) -> Key {
        if self.alg == KeyAlgorithm::HS256 {
            return self.clone();
        }
        Key {
            encoding: None,
            ..self.clone()
        }
    }

    /// Verifies a base64url `signature` over `message` with this key's algorithm.
    pub(crate) fn verify_signature(
        &self,
        message: &[u8],
        signature: &str,
    ) -> Result<(), AuthError> {
        match jsonwebtoken::crypto::verify(signature, message, &self.decoding, self.alg.jwt()) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(AuthError::InvalidSignature),
        }
    }

    fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let encoding = self.encoding.as_ref().ok_or_else(|| {
            AuthError::NoSigningKey(format!("kid `{}` has no private key", self.kid))
        })?;
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, encoding)
            .map_err(|e| AuthError::Signing(e.to_string()))
    }
}

fn checked_kid(kid: String) -> Result<String, AuthError> {
    if kid.trim().is_empty() {
        Err(AuthError::KeyParse("`kid` must not be empty".into()))
    } else {
        Ok(kid)
    }
}

/// A set of [`Key`]s indexed by `kid`, one of which may be the *active* key
/// used for signing. Cloning is cheap (keys are shared).
///
/// * **Signing** uses the active key and writes its `kid` into the header.
/// * **Verifying** picks the key named by the token's `kid` and accepts only
///   that key's algorithm. A token without `kid` is checked against the
///   *default key*: the active key, or the only key if there is exactly one.
///
/// For rotation: add the new key, make it active, keep the old one (verify
/// only, e.g. via [`Key::public_only`]) until its tokens have expired.
///
/// The active key is the one set with [`set_active`](Self::set_active) (or
/// `"active"` in a key file); if none was set and the set holds exactly one
/// key, that key is active.
///
/// # Key file format
///
/// ```json
/// {
///   "active": "2025-01-hs",
///   "keys": [
///     { "kid": "2025-01-hs", "alg": "HS256", "secret": "<base64 of >= 32 bytes>" },
///     { "kid": "rsa-1", "alg": "RS256",
///       "public_pem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
///       "private_pem": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n" },
///     { "kid": "ec-1", "alg": "ES256", "public_pem": "..." },
///     { "kid": "ed-1", "alg": "EdDSA", "public_pem": "...", "private_pem": "..." }
///   ]
/// }
/// ```
///
/// * `active` (optional): the `kid` of the signing key; must name a key in the file.
/// * `kid` (required, non-empty, unique), `alg` (required: `HS256`, `RS256`, `ES256`, `EdDSA`).
/// * `HS256`: `secret` (required) is the secret in base64 (standard or
///   URL-safe alphabet, padding optional) and must decode to at least 32 bytes.
/// * `RS256`/`ES256`/`EdDSA`: `public_pem` (required) and `private_pem`
///   (optional: without it the key only verifies). PEM is inline text with
///   `\n` escapes; formats as for [`Key::from_pem`].
/// * Unknown fields are rejected, so typos (`"privat_pem"`) do not go unnoticed.
///
/// # Examples
///
/// ```
/// use tenant_auth::KeySet;
///
/// let json = r#"{ "keys": [
///     { "kid": "old", "alg": "HS256", "secret": "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQtb2xk" },
///     { "kid": "new", "alg": "HS256", "secret": "bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQtbmV3" }
///   ], "active": "new" }"#;
/// let keys = KeySet::from_json(json)?;
/// assert_eq!(keys.len(), 2);
/// assert_eq!(keys.active().map(|k| k.kid()), Some("new"));
/// # Ok::<(), tenant_auth::AuthError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: BTreeMap<String, Arc<Key>>,
    active: Option<String>,
}

impl KeySet {
    /// An empty key set.
    #[must_use]
    pub fn new() -> Self {
        KeySet::default()
    }

    /// A key set with one HS256 key (active).
    ///
    /// # Errors
    ///
    /// As [`Key::hs256`].
    ///
    /// # Examples
    ///
    /// ```
    /// let keys = tenant_auth::KeySet::hs256("k1", "a-secret-of-at-least-32-bytes!!!")?;
    /// assert_eq!(keys.active().map(|k| k.kid()), Some("k1"));
    /// # Ok::<(), tenant_auth::AuthError>(())
    /// ```
    pub fn hs256(kid: impl Into<String>, secret: impl AsRef<[u8]>) -> Result<Self, AuthError> {
        KeySet::single(Key::hs256(kid, secret)?)
    }

    /// A key set with one RS256 key pair (active).
    ///
    /// # Errors
    ///
    /// As [`Key::rs256`].
    pub fn rs256(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        KeySet::single(Key::rs256(kid, public_pem, private_pem)?)
    }

    /// A key set with one ES256 key pair (active).
    ///
    /// # Errors
    ///
    /// As [`Key::es256`].
    pub fn es256(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        KeySet::single(Key::es256(kid, public_pem, private_pem)?)
    }

    /// A key set with one EdDSA key pair (active).
    ///
    /// # Errors
    ///
    /// As [`Key::eddsa`].
    pub fn eddsa(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, AuthError> {
        KeySet::single(Key::eddsa(kid, public_pem, private_pem)?)
    }

    /// A key set holding just `key` (active).
    ///
    /// # Errors
    ///
    /// None in practice; returns `Result` for symmetry with the other constructors.
    pub fn single(key: Key) -> Result<Self, AuthError> {
        let kid = key.kid.clone();
        KeySet::new().with_key(key)?.with_active(kid)
    }

    /// Adds a key.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] if a key with the same `kid` exists.
    pub fn insert(&mut self, key: Key) -> Result<(), AuthError> {
        if self.keys.contains_key(&key.kid) {
            return Err(AuthError::KeyParse(format!("duplicate kid `{}`", key.kid)));
        }
        self.keys.insert(key.kid.clone(), Arc::new(key));
        Ok(())
    }

    /// Builder form of [`insert`](Self::insert).
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn with_key(mut self, key: Key) -> Result<Self, AuthError> {
        self.insert(key)?;
        Ok(self)
    }

    /// Makes `kid` the active (signing and default) key.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] if there is no such key.
    pub fn set_active(&mut self, kid: impl Into<String>) -> Result<(), AuthError> {
        let kid = kid.into();
        if !self.keys.contains_key(&kid) {
            return Err(AuthError::KeyParse(format!(
                "active kid `{kid}` is not in the key set"
            )));
        }
        self.active = Some(kid);
        Ok(())
    }

    /// Builder form of [`set_active`](Self::set_active).
    ///
    /// # Errors
    ///
    /// As [`set_active`](Self::set_active).
    pub fn with_active(mut self, kid: impl Into<String>) -> Result<Self, AuthError> {
        self.set_active(kid)?;
        Ok(self)
    }

    /// Removes a key (e.g. after rotation), returning it. If it was the active
    /// key, there is no explicit active key afterwards.
    pub fn remove(&mut self, kid: &str) -> Option<Key> {
        if self.active.as_deref() == Some(kid) {
            self.active = None;
        }
        self.keys.remove(kid).map(Arc::unwrap_or_clone)
    }

    /// The key with this `kid`.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.keys.get(kid).map(|k| &**k)
    }

    /// The active key: the one set with [`set_active`](Self::set_active), or
    /// the only key of a one-key set. Also the default for tokens without `kid`.
    #[must_use]
    pub fn active(&self) -> Option<&Key> {
        match &self.active {
            Some(kid) => self.get(kid),
            None if self.keys.len() == 1 => self.keys.values().next().map(|k| &**k),
            None => None,
        }
    }

    /// The key ids, sorted.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// `true` if there are no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The same set with every private half removed (HS256 keys are kept as
    /// they are, being symmetric).
    #[must_use]
    pub fn public_only(&self) -> KeySet {
        KeySet {
            keys: self
                .keys
                .iter()
                .map(|(k, v)| (k.clone(), Arc::new(v.public_only())))
                .collect(),
            active: self.active.clone(),
        }
    }

    /// The key a token with header `kid` must be verified with.
    pub(crate) fn verification_key(&self, kid: Option<&str>) -> Result<&Key, AuthError> {
        match kid {
            Some(kid) => self.get(kid),
            None => self.active(),
        }
        .ok_or(AuthError::UnknownKey)
    }

    /// Signs `claims` as-is with the active key (header `alg` and `kid` set
    /// from the key). Prefer [`TokenIssuer`](crate::TokenIssuer), which also
    /// fills `iss`/`aud`/`iat`/`exp`/`jti`.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoSigningKey`] without an active key or if it has no
    /// private half; [`AuthError::Signing`] if the backend fails.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let key = self.active().ok_or_else(|| {
            AuthError::NoSigningKey(if self.keys.is_empty() {
                "the key set is empty".into()
            } else {
                "no active key (set one with `set_active` or `\"active\"`)".into()
            })
        })?;
        key.sign(claims)
    }

    /// Parses a key set from the JSON format described on [`KeySet`].
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] for invalid JSON, unknown fields, missing or
    /// misplaced fields, bad base64/PEM, duplicate `kid`s or an unknown
    /// `active` kid; [`AuthError::WeakSecret`] for a short HS256 secret.
    pub fn from_json(json: &str) -> Result<Self, AuthError> {
        let file: KeyFile = serde_json::from_str(json).map_err(|e| {
            // "unknown/missing field" messages name fields only; other serde
            // messages may quote values (possibly a secret), so they are
            // reduced to the position.
            let text = e.to_string();
            AuthError::KeyParse(
                if text.starts_with("unknown field") || text.starts_with("missing field") {
                    format!("invalid key file: {text}")
                } else {
                    format!(
                        "invalid key file JSON at line {}, column {}",
                        e.line(),
                        e.column()
                    )
                },
            )
        })?;
        let mut set = KeySet::new();
        for entry in file.keys {
            set.insert(entry.into_key()?)?;
        }
        if let Some(active) = file.active {
            set.set_active(active)?;
        }
        Ok(set)
    }

    /// Reads and parses a key file (see [`from_json`](Self::from_json)).
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyFile`] if the file cannot be read, otherwise as
    /// [`from_json`](Self::from_json).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, AuthError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::KeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        KeySet::from_json(&text)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default)]
    active: Option<String>,
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    kid: String,
    alg: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    public_pem: Option<String>,
    #[serde(default)]
    private_pem: Option<String>,
}

impl KeyEntry {
    fn into_key(self) -> Result<Key, AuthError> {
        let kid = checked_kid(self.kid)?;
        let alg: KeyAlgorithm = self
            .alg
            .parse()
            .map_err(|e: AuthError| AuthError::KeyParse(format!("kid `{kid}`: {}", inner(&e))))?;
        let field_err = |msg: &str| AuthError::KeyParse(format!("kid `{kid}` ({alg}): {msg}"));
        if alg == KeyAlgorithm::HS256 {
            if self.public_pem.is_some() || self.private_pem.is_some() {
                return Err(field_err("HS256 keys take `secret`, not PEM fields"));
            }
            let secret = self
                .secret
                .as_deref()
                .ok_or_else(|| field_err("`secret` is required"))?;
            let bytes =
                decode_secret(secret).ok_or_else(|| field_err("`secret` is not valid base64"))?;
            return Key::hs256(kid, bytes);
        }
        if self.secret.is_some() {
            return Err(field_err("`secret` is only for HS256 keys"));
        }
        let public = self
            .public_pem
            .as_deref()
            .ok_or_else(|| field_err("`public_pem` is required"))?;
        Key::from_pem(
            kid.clone(),
            alg,
            public.as_bytes(),
            self.private_pem.as_deref().map(str::as_bytes),
        )
    }
}

fn inner(e: &AuthError) -> String {
    match e {
        AuthError::KeyParse(m) => m.clone(),
        other => other.to_string(),
    }
}

fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let s = secret.trim();
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_decoding_accepts_both_alphabets() {
        let raw: Vec<u8> = (0u8..40)
            .map(|i| i.wrapping_mul(37).wrapping_add(250))
            .collect();
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            assert_eq!(
                decode_secret(&engine.encode(&raw)).as_deref(),
                Some(raw.as_slice())
            );
        }
        assert!(decode_secret("not base64 !!").is_none());
    }

    #[test]
    fn debug_hides_secret() {
        let key = Key::hs256("k", b"super-secret-super-secret-super-secret").ok();
        let dbg = format!("{key:?}");
        assert!(dbg.contains("\"k\""));
        assert!(!dbg.contains("super-secret"));
    }

    #[test]
    fn active_key_rules() {
        let a = Key::hs256("a", [1u8; 32]).ok();
        let b = Key::hs256("b", [2u8; 32]).ok();
        let (Some(a), Some(b)) = (a, b) else {
            panic!("keys")
        };
        let mut set = KeySet::new();
        assert!(set.active().is_none());
        assert!(set.insert(a.clone()).is_ok());
        assert_eq!(
            set.active().map(Key::kid),
            Some("a"),
            "single key is active"
        );
        assert!(set.insert(b).is_ok());
        assert!(set.active().is_none(), "two keys and none chosen");
        assert!(matches!(set.insert(a), Err(AuthError::KeyParse(_))));
        assert!(set.set_active("b").is_ok());
        assert_eq!(set.active().map(Key::kid), Some("b"));
        assert!(set.set_active("zzz").is_err());
        assert!(set.remove("b").is_some());
        assert_eq!(set.active().map(Key::kid), Some("a"));
    }
}
