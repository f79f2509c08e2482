//! The key that encrypts tenants' exchange credentials at rest (`ALPHAPULSE_CREDENTIALS_KEY`).
//!
//! 1. `ALPHAPULSE_CREDENTIALS_KEY`: a base64 (standard, padded) 32-byte key;
//! 2. with the local cluster only: a key generated once and kept in
//!    `<data dir>/credentials-key` (mode 600), reused by every later run: the same way as the
//!    JWT secret ([`crate::auth`]), with the same helper;
//! 3. with `ALPHAPULSE_DATABASE_URL` and no key: no cipher. That is not an error (paper
//!    accounts need no credentials), but a warning is logged: live-exchange accounts cannot be
//!    added or used.
//!
//! The key never reaches logs, errors or `Debug` output.

use std::path::{Path, PathBuf};

use alphapulse_exchange::CredentialsCipher;
use anyhow::{anyhow, Context, Result};
use clap::Args;

use secrecy::{ExposeSecret, SecretString};

use crate::auth::load_or_generate_secret;

/// Name of the generated key in the data dir.
pub const KEY_FILE: &str = "credentials-key";

/// The credentials key setting (flattened into the commands that need it).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Credentials options")]
pub struct CredentialsArgs {
    /// Base64 32-byte key encrypting exchange credentials. Prefer the environment variable;
    /// unset with the local cluster = generated once and kept in `<data dir>/credentials-key`.
    #[arg(
        long,
        env = "ALPHAPULSE_CREDENTIALS_KEY",
        hide_env_values = true,
        value_name = "BASE64"
    )]
    pub credentials_key: Option<SecretString>,
}

/// Where the key came from (for the log line; never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsKeySource {
    /// `ALPHAPULSE_CREDENTIALS_KEY`.
    Env,
    /// The data dir's generated key (`created` on this run or reused).
    Generated { path: PathBuf, created: bool },
    /// No key (configured database without `ALPHAPULSE_CREDENTIALS_KEY`).
    None,
}

impl CredentialsArgs {
    /// The cipher for exchange credentials, or `None` (with a warning logged) when a database
    /// URL is configured and no key is set. `data_dir` is `Some` when the local cluster is in
    /// use (`Database::local_data_dir`), so a key may be generated there.
    ///
    /// # Errors
    /// A key that is not base64 of 32 bytes (from the environment or the key file); the key
    /// file cannot be read or created.
    // Called by `serve` once the API state takes the cipher.
    pub fn resolve(&self, data_dir: Option<&Path>) -> Result<Option<CredentialsCipher>> {
        let (cipher, source) = self.resolve_with_source(data_dir)?;
        match &source {
            CredentialsKeySource::Env => {
                tracing::info!("exchange credentials key from ALPHAPULSE_CREDENTIALS_KEY");
            }
            CredentialsKeySource::Generated {
                path,
                created: true,
            } => tracing::info!(
                path = %path.display(),
                "generated an exchange credentials key (back it up with the data dir)"
            ),
            CredentialsKeySource::Generated {
                path,
                created: false,
            } => {
                tracing::info!(path = %path.display(), "exchange credentials key from the data dir")
            }
            CredentialsKeySource::None => tracing::warn!(
                "ALPHAPULSE_CREDENTIALS_KEY is not set: live exchange accounts cannot be added or \
                 used (paper accounts work); set it to a base64 32-byte key"
            ),
        }
        Ok(cipher)
    }

    /// [`CredentialsArgs::resolve`] without logging, with where the key came from.
    ///
    /// # Errors
    /// As [`CredentialsArgs::resolve`].
    pub fn resolve_with_source(
        &self,
        data_dir: Option<&Path>,
    ) -> Result<(Option<CredentialsCipher>, CredentialsKeySource)> {
        let key = self
            .credentials_key
            .as_ref()
            .filter(|k| !k.expose_secret().trim().is_empty());
        if let Some(key) = key {
            let cipher = CredentialsCipher::from_base64(key.expose_secret())
                .map_err(|e| anyhow!(e))
                .context("ALPHAPULSE_CREDENTIALS_KEY")?;
            return Ok((Some(cipher), CredentialsKeySource::Env));
        }
        let Some(dir) = data_dir else {
            return Ok((None, CredentialsKeySource::None));
        };
        let path = dir.join(KEY_FILE);
        let (key, created) = load_or_generate_secret(&path, CredentialsCipher::generate_key)?;
        let cipher = CredentialsCipher::from_base64(key.expose_secret())
            .map_err(|e| anyhow!(e))
            .with_context(|| {
                format!(
                    "the key in {} (restore it from a backup: deleting it makes stored exchange \
                     credentials unreadable)",
                    path.display()
                )
            })?;
        Ok((
            Some(cipher),
            CredentialsKeySource::Generated { path, created },
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::{fs, os::unix::fs::PermissionsExt};

    use super::*;

    fn args(key: Option<&str>) -> CredentialsArgs {
        CredentialsArgs {
            credentials_key: key.map(|k| SecretString::from(k.to_owned())),
        }
    }

    #[test]
    fn key_from_the_environment() {
        let key = CredentialsCipher::generate_key();
        let dir = tempfile::tempdir().unwrap();
        let (cipher, source) = args(Some(&key))
            .resolve_with_source(Some(dir.path()))
            .unwrap();
        assert_eq!(source, CredentialsKeySource::Env);
        let text = cipher.unwrap().encrypt(b"secret", b"tenant").unwrap();
        let same = CredentialsCipher::from_base64(&key).unwrap();
        assert_eq!(same.decrypt(&text, b"tenant").unwrap(), b"secret");
        assert!(!dir.path().join(KEY_FILE).exists());
    }

    #[test]
    fn bad_key_is_an_error_that_does_not_echo_it() {
        for bad in ["not base64!", "c2hvcnQ="] {
            let err = args(Some(bad)).resolve_with_source(None).unwrap_err();
            let text = format!("{err:#}");
            assert!(text.contains("ALPHAPULSE_CREDENTIALS_KEY"), "{text}");
            assert!(!text.contains(bad), "{text}");
        }
    }

    #[test]
    fn configured_database_without_key_is_no_cipher() {
        let (cipher, source) = args(None).resolve_with_source(None).unwrap();
        assert!(cipher.is_none());
        assert_eq!(source, CredentialsKeySource::None);
        let (cipher, _) = args(Some("")).resolve_with_source(None).unwrap();
        assert!(cipher.is_none());
    }

    #[test]
    fn generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = args(None).resolve_with_source(Some(dir.path())).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(
            source,
            CredentialsKeySource::Generated {
                path: path.clone(),
                created: true
            }
        );
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let stored = fs::read_to_string(&path).unwrap();
        assert!(CredentialsCipher::from_base64(&stored).is_ok());
        let text = first.unwrap().encrypt(b"api-secret", b"t1").unwrap();

        let (second, source) = args(None).resolve_with_source(Some(dir.path())).unwrap();
        assert!(matches!(
            source,
            CredentialsKeySource::Generated { created: false, .. }
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), stored);
        assert_eq!(
            second.unwrap().decrypt(&text, b"t1").unwrap(),
            b"api-secret"
        );
        // The JWT secret is a separate file.
        assert!(!dir.path().join(crate::auth::SECRET_FILE).exists());
    }

    #[test]
    fn corrupt_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), "dG9vLXNob3J0").unwrap();
        let err = args(None)
            .resolve_with_source(Some(dir.path()))
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains(KEY_FILE), "{text}");
        assert!(!text.contains("dG9vLXNob3J0"), "{text}");
    }
}
