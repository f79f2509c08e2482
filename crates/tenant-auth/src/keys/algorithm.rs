//! The supported signature algorithms.

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr};

use crate::AuthError;

/// The signature algorithms this crate supports. The algorithm belongs to a
/// [`Key`](crate::Key); it is never taken from a token.
///
/// `Display`, `FromStr` and serde use the JOSE names (`"HS256"`, `"RS256"`,
/// `"ES256"`, `"EdDSA"`, case-sensitive). `FromStr` fails with
/// [`AuthError::KeyParse`] naming the rejected value.
///
/// # Examples
///
/// ```
/// use tenant_auth::{AuthError, KeyAlgorithm};
///
/// assert_eq!("EdDSA".parse::<KeyAlgorithm>()?, KeyAlgorithm::EdDSA);
/// assert_eq!(KeyAlgorithm::ES256.to_string(), "ES256");
/// assert!(matches!("none".parse::<KeyAlgorithm>(), Err(AuthError::KeyParse(m)) if m.contains("`none`")));
/// # Ok::<(), AuthError>(())
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
)]
#[strum(parse_err_ty = AuthError, parse_err_fn = unsupported_algorithm)]
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
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub(crate) const fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::HS256 => Algorithm::HS256,
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// The `FromStr` error: names the value (at most 16 characters) and the
/// accepted names.
fn unsupported_algorithm(value: &str) -> AuthError {
    AuthError::KeyParse(format!(
        "unsupported algorithm `{}` (expected HS256, RS256, ES256 or EdDSA)",
        value.chars().take(16).collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (alg, name) in [
            (KeyAlgorithm::HS256, "HS256"),
            (KeyAlgorithm::RS256, "RS256"),
            (KeyAlgorithm::ES256, "ES256"),
            (KeyAlgorithm::EdDSA, "EdDSA"),
        ] {
            assert_eq!(alg.as_str(), name);
            assert_eq!(alg.to_string(), name);
            assert_eq!(name.parse::<KeyAlgorithm>().ok(), Some(alg));
            assert_eq!(
                serde_json::to_string(&alg).ok(),
                Some(format!("\"{name}\""))
            );
        }
        let err = "hs256".parse::<KeyAlgorithm>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "invalid key configuration: unsupported algorithm `hs256` \
                 (expected HS256, RS256, ES256 or EdDSA)"
            )
        );
    }
}
