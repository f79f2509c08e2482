//! Token settings (`ALPHAPULSE_JWT_*`, `ALPHAPULSE_LOGIN_PER_MINUTE`) and where the signing
//! keys come from:
//!
//! 1. `ALPHAPULSE_JWT_KEYS_FILE`: a key file of keys by `kid` (takes precedence);
//! 2. `ALPHAPULSE_JWT_SECRET`: one HS256 secret of at least 32 bytes;
//! 3. with the local cluster only: a random secret generated once and kept in
//!    `<data dir>/jwt-secret` (mode 600), reused by every later run and by every command
//!    sharing the data dir (so `alphapulse token` signs what `alphapulse serve` accepts).
//!
//! With `ALPHAPULSE_DATABASE_URL` set and neither 1 nor 2, the binary refuses to start: a
//! production server must not invent a key. Secrets never reach logs or `Debug` output.

use std::{
    fmt, fs,
    io::{ErrorKind, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::{distributions::Alphanumeric, Rng};
use secrecy::{ExposeSecret, SecretString};
use tenant_auth::{KeySet, TokenIssuer, TokenVerifier, VerifierConfig, MIN_HS256_SECRET_LEN};

/// The `kid` of the key built from `ALPHAPULSE_JWT_SECRET` or the generated secret.
pub const SECRET_KID: &str = "alphapulse-hs256";
/// Name of the generated secret in the data dir.
pub const SECRET_FILE: &str = "jwt-secret";
/// Length of a generated secret (alphanumeric characters, ~380 bits).
const GENERATED_SECRET_LEN: usize = 64;

/// Token settings: keys, the required `iss`/`aud`, lifetime, leeway and the login limit.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Signing and verification keys by `kid`; the active key signs.
    pub keys: KeySet,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Clock-skew leeway for `exp`/`nbf`.
    pub leeway: Duration,
    /// Login attempts allowed per client address per minute.
    pub login_per_minute: u32,
}

impl AuthConfig {
    /// The issuer of this configuration.
    ///
    /// # Errors
    /// Keys that cannot sign.
    pub fn issuer(&self) -> Result<TokenIssuer> {
        TokenIssuer::new(
            self.keys.clone(),
            self.issuer.clone(),
            self.audience.clone(),
        )
        .context("building the token issuer")
    }

    /// The verifier of this configuration.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(
            self.keys.clone(),
            VerifierConfig::new(self.issuer.clone(), self.audience.clone())
                .with_leeway(self.leeway),
        )
    }
}

/// Token settings of the commands that sign or verify tokens (`serve`, `token`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Authentication options")]
pub struct AuthArgs {
    /// HS256 secret (>= 32 bytes). Prefer the environment variable; unset with the local
    /// cluster = generated once and kept in `<data dir>/jwt-secret`.
    #[arg(
        long,
        env = "ALPHAPULSE_JWT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub jwt_secret: Option<SecretString>,

    /// Key file of keys by `kid` (HS256/RS256/ES256/EdDSA); takes precedence over the secret.
    #[arg(long, env = "ALPHAPULSE_JWT_KEYS_FILE", value_name = "PATH")]
    pub jwt_keys_file: Option<PathBuf>,

    /// Required `iss` of tokens (and the `iss` of tokens issued here).
    #[arg(long, env = "ALPHAPULSE_JWT_ISSUER", default_value = "alphapulse")]
    pub jwt_issuer: String,

    /// Required `aud` of tokens (and the `aud` of tokens issued here).
    #[arg(
        long,
        env = "ALPHAPULSE_JWT_AUDIENCE",
        default_value = "alphapulse-api"
    )]
    pub jwt_audience: String,

    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, env = "ALPHAPULSE_JWT_TTL_SECONDS", default_value_t = 900)]
    pub jwt_ttl_seconds: u64,

    /// Clock-skew leeway for `exp`/`nbf`, in seconds.
    #[arg(long, env = "ALPHAPULSE_JWT_LEEWAY_SECONDS", default_value_t = 30)]
    pub jwt_leeway_seconds: u64,

    /// Login attempts allowed per client address per minute.
    #[arg(long, env = "ALPHAPULSE_LOGIN_PER_MINUTE", default_value_t = 20)]
    pub login_per_minute: u32,
}

/// Where the keys came from (for the startup log line; never the key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ALPHAPULSE_JWT_KEYS_FILE`.
    KeysFile(PathBuf),
    /// `ALPHAPULSE_JWT_SECRET`.
    EnvSecret,
    /// The data dir's generated secret (`created` on this run or reused).
    Generated { path: PathBuf, created: bool },
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::KeysFile(path) => write!(f, "key file {}", path.display()),
            KeySource::EnvSecret => f.write_str("ALPHAPULSE_JWT_SECRET"),
            KeySource::Generated {
                path,
                created: true,
            } => {
                write!(f, "generated dev secret, saved to {}", path.display())
            }
            KeySource::Generated {
                path,
                created: false,
            } => {
                write!(f, "dev secret from {}", path.display())
            }
        }
    }
}

/// The resolved token settings.
#[derive(Debug, Clone)]
pub struct ResolvedAuth {
    /// What the API state takes.
    pub config: AuthConfig,
    /// Where the keys came from.
    pub source: KeySource,
}

impl AuthArgs {
    /// Resolves the settings. `data_dir` is `Some` when the local cluster is in use (a secret
    /// may then be generated there), `None` with `ALPHAPULSE_DATABASE_URL`.
    ///
    /// # Errors
    /// A bad key file, a short secret, no key at all with a configured database URL, zero TTL.
    pub fn resolve(&self, data_dir: Option<&Path>) -> Result<ResolvedAuth> {
        anyhow::ensure!(
            self.jwt_ttl_seconds > 0,
            "ALPHAPULSE_JWT_TTL_SECONDS must be at least 1"
        );
        anyhow::ensure!(
            self.login_per_minute > 0,
            "ALPHAPULSE_LOGIN_PER_MINUTE must be at least 1"
        );
        anyhow::ensure!(
            !self.jwt_issuer.trim().is_empty(),
            "ALPHAPULSE_JWT_ISSUER must not be empty"
        );
        anyhow::ensure!(
            !self.jwt_audience.trim().is_empty(),
            "ALPHAPULSE_JWT_AUDIENCE must not be empty"
        );
        let secret = self
            .jwt_secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty());
        let (keys, source) = if let Some(path) = &self.jwt_keys_file {
            if secret.is_some() {
                tracing::warn!("both ALPHAPULSE_JWT_KEYS_FILE and ALPHAPULSE_JWT_SECRET are set; using the key file");
            }
            let keys = KeySet::from_file(path)
                .with_context(|| format!("loading ALPHAPULSE_JWT_KEYS_FILE {}", path.display()))?;
            anyhow::ensure!(
                keys.active().is_some_and(tenant_auth::Key::can_sign),
                "ALPHAPULSE_JWT_KEYS_FILE {}: no active key that can sign (set \"active\" to a key with a secret or private_pem)",
                path.display()
            );
            (keys, KeySource::KeysFile(path.clone()))
        } else if let Some(secret) = secret {
            (
                hs256(secret.expose_secret()).context("ALPHAPULSE_JWT_SECRET")?,
                KeySource::EnvSecret,
            )
        } else if let Some(dir) = data_dir {
            let path = dir.join(SECRET_FILE);
            let (secret, created) = load_or_generate_secret(&path, random_secret)?;
            let keys = hs256(secret.expose_secret())
                .with_context(|| format!("the secret in {}", path.display()))?;
            (keys, KeySource::Generated { path, created })
        } else {
            bail!(
                "ALPHAPULSE_JWT_SECRET (an HS256 secret of at least {MIN_HS256_SECRET_LEN} bytes) or \
                 ALPHAPULSE_JWT_KEYS_FILE is required when ALPHAPULSE_DATABASE_URL is set \
                 (a secret is generated automatically only for the local cluster)"
            );
        };
        Ok(ResolvedAuth {
            config: AuthConfig {
                keys,
                issuer: self.jwt_issuer.clone(),
                audience: self.jwt_audience.clone(),
                token_ttl: Duration::from_secs(self.jwt_ttl_seconds),
                leeway: Duration::from_secs(self.jwt_leeway_seconds),
                login_per_minute: self.login_per_minute,
            },
            source,
        })
    }
}

fn hs256(secret: &str) -> Result<KeySet> {
    if secret.len() < MIN_HS256_SECRET_LEN {
        bail!(
            "the HS256 secret is {} bytes long; at least {MIN_HS256_SECRET_LEN} are required",
            secret.len()
        );
    }
    KeySet::hs256(SECRET_KID, secret.as_bytes()).context("building the HS256 key")
}

/// A random JWT secret of [`GENERATED_SECRET_LEN`] alphanumeric characters.
fn random_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(GENERATED_SECRET_LEN)
        .map(char::from)
        .collect()
}

/// Reads the generated secret at `path`, or creates it with `generate` (mode 600) if absent;
/// the flag says whether it was created now. Creation is atomic: the secret is written to a
/// private temporary file and hard-linked into place, so concurrent processes on one data dir
/// agree on one secret and never read a half-written file. Also used for other generated
/// secrets of the data dir (the credentials key).
pub(crate) fn load_or_generate_secret(
    path: &Path,
    generate: impl FnOnce() -> String,
) -> Result<(SecretString, bool)> {
    if let Some(secret) = read_secret(path)? {
        return Ok((secret, false));
    }
    let dir = path
        .parent()
        .context("the secret path has no parent directory")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret = generate();
    let name = path
        .file_name()
        .map_or_else(|| SECRET_FILE.into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    {
        let mut file = fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(secret.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok((SecretString::from(secret), true)),
        // Another process created it first: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let secret =
                read_secret(path)?.with_context(|| format!("{} is empty", path.display()))?;
            Ok((secret, false))
        }
        Err(e) => {
            Err(e).with_context(|| format!("saving the generated secret to {}", path.display()))
        }
    }
}

fn read_secret(path: &Path) -> Result<Option<SecretString>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let text = text.trim();
            if text.is_empty() {
                bail!(
                    "{} is empty: delete it to generate a new secret",
                    path.display()
                );
            }
            Ok(Some(SecretString::from(text.to_owned())))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        auth: AuthArgs,
    }

    fn args(extra: &[&str]) -> AuthArgs {
        let mut argv = vec!["test"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).auth
    }

    #[test]
    fn defaults_follow_the_contract() {
        let a = args(&["--jwt-secret", "0123456789abcdef0123456789abcdef"]);
        let r = a.resolve(None).unwrap();
        assert_eq!(r.config.issuer, "alphapulse");
        assert_eq!(r.config.audience, "alphapulse-api");
        assert_eq!(r.config.token_ttl, Duration::from_secs(900));
        assert_eq!(r.config.leeway, Duration::from_secs(30));
        assert_eq!(r.config.login_per_minute, 20);
        assert_eq!(r.source, KeySource::EnvSecret);
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let a = args(&["--jwt-secret", "super-secret-value-super-secret-value"]);
        let r = a.resolve(None).unwrap();
        assert!(!format!("{a:?}").contains("super-secret"));
        assert!(!format!("{r:?}").contains("super-secret"));
    }

    #[test]
    fn short_secret_is_refused() {
        let err = args(&["--jwt-secret", "short"]).resolve(None).unwrap_err();
        assert!(format!("{err:#}").contains("at least 32"), "{err:#}");
    }

    #[test]
    fn configured_database_needs_a_key() {
        let err = args(&[]).resolve(None).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("ALPHAPULSE_JWT_SECRET") && text.contains("ALPHAPULSE_DATABASE_URL"),
            "{text}"
        );
    }

    #[test]
    fn generated_secret_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = args(&[]).resolve(Some(dir.path())).unwrap();
        let path = dir.path().join(SECRET_FILE);
        assert!(matches!(
            first.source,
            KeySource::Generated { created: true, .. }
        ));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let secret = fs::read_to_string(&path).unwrap();
        assert_eq!(secret.len(), GENERATED_SECRET_LEN);

        let second = args(&[]).resolve(Some(dir.path())).unwrap();
        assert!(matches!(
            second.source,
            KeySource::Generated { created: false, .. }
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), secret);

        // A token signed with the first configuration verifies with the second.
        let issuer =
            tenant_auth::TokenIssuer::new(first.config.keys, "alphapulse", "alphapulse-api")
                .unwrap();
        let token = issuer
            .issue(
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4(),
                tenant_auth::Role::Admin,
                Duration::from_secs(60),
            )
            .unwrap();
        let verifier = tenant_auth::TokenVerifier::new(
            second.config.keys,
            tenant_auth::VerifierConfig::new("alphapulse", "alphapulse-api"),
        );
        assert!(verifier.verify_context(&token).is_ok());
    }

    #[test]
    fn keys_file_takes_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        fs::write(
            &path,
            r#"{"active":"k2","keys":[{"kid":"k2","alg":"HS256","secret":"bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQtbmV3"}]}"#,
        )
        .unwrap();
        let r = args(&[
            "--jwt-keys-file",
            path.to_str().unwrap(),
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
        ])
        .resolve(Some(dir.path()))
        .unwrap();
        assert_eq!(r.source, KeySource::KeysFile(path));
        assert_eq!(r.config.keys.active().map(|k| k.kid()), Some("k2"));
        assert!(!dir.path().join(SECRET_FILE).exists());
    }
}
