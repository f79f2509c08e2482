//! Encryption at rest of tenants' exchange credentials (API secrets).
//!
//! AES-256-GCM with a random 96-bit nonce per message; the stored text is
//! `base64(nonce || ciphertext || tag)` (standard alphabet, padded). The caller passes
//! *associated data* — the tenant id — to both [`CredentialsCipher::encrypt`] and
//! [`CredentialsCipher::decrypt`]: it is authenticated but not stored, so a ciphertext copied
//! into another tenant's row does not decrypt there.
//!
//! The 32-byte key comes from the deployment's secret store (for example a base64 environment
//! variable read with [`CredentialsCipher::from_base64`]); [`CredentialsCipher::generate_key`]
//! makes one.

use std::fmt;

use aes_gcm::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    Aes256Gcm, Key, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use thiserror::Error;

/// Key length in bytes (AES-256).
pub const KEY_LEN: usize = 32;
/// Nonce length in bytes (96 bits).
pub const NONCE_LEN: usize = 12;
/// Authentication tag length in bytes.
pub const TAG_LEN: usize = 16;

/// Why a key could not be loaded or a credential encrypted or decrypted. Messages never contain
/// key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The key is not valid base64 or not 32 bytes long.
    #[error("invalid credentials key: {0}")]
    InvalidKey(String),
    /// The stored text is not base64 or too short to hold a nonce and a tag.
    #[error("malformed encrypted credential: {0}")]
    Malformed(String),
    /// Authentication failed: wrong key, wrong associated data (tenant), or tampered text.
    #[error("credential could not be decrypted (wrong key or tenant, or tampered)")]
    Decrypt,
    /// Encryption failed (plaintext too long).
    #[error("credential could not be encrypted")]
    Encrypt,
    /// The decrypted bytes are not UTF-8.
    #[error("decrypted credential is not UTF-8")]
    NotUtf8,
}

/// Encrypts and decrypts credentials with one AES-256-GCM key. `Debug` never prints the key.
#[derive(Clone)]
pub struct CredentialsCipher {
    cipher: Aes256Gcm,
}

impl CredentialsCipher {
    /// A cipher with `key`.
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }

    /// A cipher with a base64 (standard alphabet, padded) 32-byte key.
    ///
    /// # Errors
    /// [`CredentialsError::InvalidKey`] for text that is not base64 or not 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, CredentialsError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| CredentialsError::InvalidKey("not valid base64".to_owned()))?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            CredentialsError::InvalidKey(format!("{} bytes, expected {KEY_LEN}", bytes.len()))
        })?;
        Ok(Self::new(key))
    }

    /// A fresh random key, base64-encoded (for [`CredentialsCipher::from_base64`]).
    pub fn generate_key() -> String {
        STANDARD.encode(Aes256Gcm::generate_key(&mut OsRng))
    }

    /// Encrypts `plaintext` bound to `aad` (pass the tenant id); returns
    /// `base64(nonce || ciphertext || tag)`.
    ///
    /// # Errors
    /// [`CredentialsError::Encrypt`] only for plaintexts beyond AES-GCM's limit (64 GiB).
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, CredentialsError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CredentialsError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts text made by [`CredentialsCipher::encrypt`] with the same key and `aad`.
    ///
    /// # Errors
    /// [`CredentialsError::Malformed`] for text that is not base64 or too short;
    /// [`CredentialsError::Decrypt`] for a wrong key, a wrong `aad` or tampered text.
    pub fn decrypt(&self, encoded: &str, aad: &[u8]) -> Result<Vec<u8>, CredentialsError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| CredentialsError::Malformed("not valid base64".to_owned()))?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(CredentialsError::Malformed(format!(
                "{} bytes, at least {} expected",
                bytes.len(),
                NONCE_LEN + TAG_LEN
            )));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CredentialsError::Decrypt)
    }

    /// [`CredentialsCipher::decrypt`] for text secrets.
    ///
    /// # Errors
    /// As [`CredentialsCipher::decrypt`], and [`CredentialsError::NotUtf8`].
    pub fn decrypt_string(&self, encoded: &str, aad: &[u8]) -> Result<String, CredentialsError> {
        String::from_utf8(self.decrypt(encoded, aad)?).map_err(|_| CredentialsError::NotUtf8)
    }
}

impl fmt::Debug for CredentialsCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCipher")
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TENANT_A: &[u8] = b"6f1c2f0e-3a4b-4c5d-8e9f-0a1b2c3d4e5f";
    const TENANT_B: &[u8] = b"0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d";

    fn cipher() -> CredentialsCipher {
        CredentialsCipher::new([7; KEY_LEN])
    }

    #[test]
    fn round_trip() {
        let secret = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let encrypted = cipher().encrypt(secret, TENANT_A).unwrap();
        assert_eq!(cipher().decrypt(&encrypted, TENANT_A).unwrap(), secret);
        assert_eq!(
            STANDARD.decode(&encrypted).unwrap().len(),
            NONCE_LEN + secret.len() + TAG_LEN
        );
        assert!(!encrypted.contains("NhqPtmd"));
    }

    #[test]
    fn round_trip_of_empty_and_string_secrets() {
        let encrypted = cipher().encrypt(b"", TENANT_A).unwrap();
        assert!(cipher().decrypt(&encrypted, TENANT_A).unwrap().is_empty());
        let encrypted = cipher().encrypt("sécret".as_bytes(), TENANT_A).unwrap();
        assert_eq!(
            cipher().decrypt_string(&encrypted, TENANT_A).unwrap(),
            "sécret"
        );
        let encrypted = cipher().encrypt(&[0xff, 0xfe], TENANT_A).unwrap();
        assert_eq!(
            cipher().decrypt_string(&encrypted, TENANT_A),
            Err(CredentialsError::NotUtf8)
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let a = cipher().encrypt(b"same", TENANT_A).unwrap();
        let b = cipher().encrypt(b"same", TENANT_A).unwrap();
        assert_ne!(a, b);
        assert_ne!(
            STANDARD.decode(&a).unwrap()[..NONCE_LEN],
            STANDARD.decode(&b).unwrap()[..NONCE_LEN]
        );
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let encrypted = cipher().encrypt(b"secret", TENANT_A).unwrap();
        let mut bytes = STANDARD.decode(&encrypted).unwrap();
        for index in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[index] ^= 0x01;
            let tampered = STANDARD.encode(&bytes);
            assert_eq!(
                cipher().decrypt(&tampered, TENANT_A),
                Err(CredentialsError::Decrypt)
            );
            bytes[index] ^= 0x01;
        }
        bytes.truncate(bytes.len() - 1);
        assert_eq!(
            cipher().decrypt(&STANDARD.encode(&bytes), TENANT_A),
            Err(CredentialsError::Decrypt)
        );
    }

    #[test]
    fn ciphertext_of_another_tenant_fails() {
        let encrypted = cipher().encrypt(b"secret", TENANT_A).unwrap();
        assert_eq!(
            cipher().decrypt(&encrypted, TENANT_B),
            Err(CredentialsError::Decrypt)
        );
        assert_eq!(
            cipher().decrypt(&encrypted, b""),
            Err(CredentialsError::Decrypt)
        );
    }

    #[test]
    fn wrong_key_fails() {
        let encrypted = cipher().encrypt(b"secret", TENANT_A).unwrap();
        let other = CredentialsCipher::new([8; KEY_LEN]);
        assert_eq!(
            other.decrypt(&encrypted, TENANT_A),
            Err(CredentialsError::Decrypt)
        );
    }

    #[test]
    fn malformed_text_is_reported() {
        assert!(matches!(
            cipher().decrypt("%%% not base64", TENANT_A),
            Err(CredentialsError::Malformed(_))
        ));
        assert!(matches!(
            cipher().decrypt(&STANDARD.encode([0u8; NONCE_LEN + TAG_LEN - 1]), TENANT_A),
            Err(CredentialsError::Malformed(_))
        ));
    }

    #[test]
    fn keys_from_base64() {
        let key = CredentialsCipher::generate_key();
        let cipher = CredentialsCipher::from_base64(&key).unwrap();
        let encrypted = cipher.encrypt(b"secret", TENANT_A).unwrap();
        assert_eq!(
            CredentialsCipher::from_base64(&format!(" {key}\n"))
                .unwrap()
                .decrypt(&encrypted, TENANT_A)
                .unwrap(),
            b"secret"
        );
        assert_ne!(CredentialsCipher::generate_key(), key);
    }

    #[test]
    fn wrong_key_length_is_an_error() {
        for len in [0, 16, 31, 33, 64] {
            let key = STANDARD.encode(vec![1u8; len]);
            assert!(
                matches!(
                    CredentialsCipher::from_base64(&key),
                    Err(CredentialsError::InvalidKey(_))
                ),
                "{len}"
            );
        }
        assert!(matches!(
            CredentialsCipher::from_base64("not base64!"),
            Err(CredentialsError::InvalidKey(_))
        ));
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let key = [0xAB; KEY_LEN];
        let debug = format!("{:?}", CredentialsCipher::new(key));
        assert!(debug.contains("redacted"));
        assert!(!debug.to_lowercase().contains("ab, ab"));
        assert!(!debug.contains("171"));
        assert!(!debug.contains(&STANDARD.encode(key)));
    }
}
