//! The JSON key file format (documented on [`KeySet`]).

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::Deserialize;

use super::key::checked_kid;
use super::{Key, KeyAlgorithm, KeySet};
use crate::AuthError;

impl KeySet {
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
}
