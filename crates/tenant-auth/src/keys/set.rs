//! [`KeySet`]: keys by `kid`, the active key, signing and key selection.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Key;
use crate::{AuthError, Claims};

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
        let kid = key.kid().to_owned();
        KeySet::new().with_key(key)?.with_active(kid)
    }

    /// Adds a key.
    ///
    /// # Errors
    ///
    /// [`AuthError::KeyParse`] if a key with the same `kid` exists.
    pub fn insert(&mut self, key: Key) -> Result<(), AuthError> {
        if self.keys.contains_key(key.kid()) {
            return Err(AuthError::KeyParse(format!(
                "duplicate kid `{}`",
                key.kid()
            )));
        }
        self.keys.insert(key.kid().to_owned(), Arc::new(key));
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
