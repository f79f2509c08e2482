//! One key: `kid`, algorithm, verification half and optional signing half.

use std::fmt;

use jsonwebtoken::{DecodingKey, EncodingKey, Header};

use super::KeyAlgorithm;
use crate::{AuthError, Claims};

/// Minimum length of an HS256 secret, in bytes (the size of the SHA-256 output).
pub const MIN_HS256_SECRET_LEN: usize = 32;

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

    pub(super) fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let encoding = self.encoding.as_ref().ok_or_else(|| {
            AuthError::NoSigningKey(format!("kid `{}` has no private key", self.kid))
        })?;
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, encoding)
            .map_err(|e| AuthError::Signing(e.to_string()))
    }
}

pub(super) fn checked_kid(kid: String) -> Result<String, AuthError> {
    if kid.trim().is_empty() {
        Err(AuthError::KeyParse("`kid` must not be empty".into()))
    } else {
        Ok(kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret() {
        let key = Key::hs256("k", b"super-secret-super-secret-super-secret").ok();
        let dbg = format!("{key:?}");
        assert!(dbg.contains("\"k\""));
        assert!(!dbg.contains("super-secret"));
    }
}
