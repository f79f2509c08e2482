//! A tenant's exchange credentials as the credentials routes manage them: sealed (encrypted)
//! by the exchange layer, stored on the tenant's exchange account rows, rotated with a grace
//! period during which the previous key pair still signs.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

use super::{accounts::AdapterKind, Actor, ExchangeAccount};
use crate::{AuditNote, ExchangeError, RepoError, TenantId};

/// A key pair as a client sends it; the secret parts never print.
#[derive(Clone)]
pub struct VenueSecrets {
    /// API key (public part; its first 8 characters are shown masked).
    pub api_key: String,
    /// API secret.
    pub api_secret: SecretString,
    /// Passphrase, for venues that have one.
    pub passphrase: Option<SecretString>,
}

impl VenueSecrets {
    /// The key as shown: its first 8 characters and `***`.
    pub fn masked_key(&self) -> String {
        mask_key(&self.api_key)
    }
}

/// The key masked (as [`mask_key`]), the secret and passphrase `<redacted>`.
impl std::fmt::Debug for VenueSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Redacted;
        impl std::fmt::Debug for Redacted {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("<redacted>")
            }
        }
        f.debug_struct("VenueSecrets")
            .field("api_key", &self.masked_key())
            .field("api_secret", &Redacted)
            .field("passphrase", &self.passphrase.as_ref().map(|_| Redacted))
            .finish()
    }
}

/// `abcd1234***`: the first 8 characters of an API key, then `***`.
pub fn mask_key(api_key: &str) -> String {
    let prefix: String = api_key.chars().take(8).collect();
    format!("{prefix}***")
}

/// Credentials sealed for storage, with what may be shown of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredentials {
    /// The encrypted credentials JSON (`base64(nonce || ciphertext || tag)`).
    pub sealed: String,
    /// `abcd1234***`.
    pub api_key_prefix: String,
    /// Whether a passphrase is sealed with them.
    pub has_passphrase: bool,
    /// The venue's test network.
    pub testnet: bool,
}

/// What the API shows of stored credentials (never the secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialsInfo {
    /// The venue.
    pub exchange: AdapterKind,
    /// The venue's test network.
    pub testnet: bool,
    /// When they were first stored.
    pub created_at: DateTime<Utc>,
    /// Last change (rotation).
    pub updated_at: DateTime<Utc>,
    /// Whether a passphrase is stored.
    pub has_passphrase: bool,
    /// `abcd1234***`.
    pub api_key_prefix: String,
    /// Whether their account is the tenant's active exchange account.
    pub active: bool,
    /// The last rotation.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Until when the key pair replaced by the last rotation still signs.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// The tenant's stored credentials, one set per venue (on its exchange account rows).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ExchangeCredentialsRepo: Send + Sync {
    /// Every venue's credentials of the tenant.
    ///
    /// # Errors
    /// Storage failures.
    fn list(&self, actor: &Actor) -> Result<Vec<CredentialsInfo>, RepoError>;

    /// The account holding the tenant's credentials for `venue`, if any.
    ///
    /// # Errors
    /// Storage failures.
    fn account(
        &self,
        actor: &Actor,
        venue: AdapterKind,
    ) -> Result<Option<ExchangeAccount>, RepoError>;

    /// Stores credentials for `venue` on a new account, made the tenant's active account when
    /// `activate` (the venue accepted them), with the audit row.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the tenant has credentials for `venue` already.
    fn add(
        &self,
        actor: &Actor,
        venue: AdapterKind,
        credentials: &SealedCredentials,
        activate: bool,
        audit: &AuditNote,
    ) -> Result<CredentialsInfo, RepoError>;

    /// Replaces the credentials of `venue`; the replaced ones (`previous`, sealed as stored)
    /// keep signing until `previous_valid_until`. With the audit row.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the tenant has none for `venue`.
    fn rotate(
        &self,
        actor: &Actor,
        venue: AdapterKind,
        credentials: &SealedCredentials,
        rotated_at: DateTime<Utc>,
        previous_valid_until: DateTime<Utc>,
        audit: &AuditNote,
    ) -> Result<CredentialsInfo, RepoError>;

    /// Deletes the credentials of `venue` (and their account; if it was active, the tenant's
    /// newest paper account becomes active again). With the audit row.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the tenant has none for `venue`.
    fn delete(&self, actor: &Actor, venue: AdapterKind, audit: &AuditNote)
        -> Result<(), RepoError>;
}

/// What the credentials and system routes need from the exchange layer besides trading.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ExchangeAdmin: Send + Sync {
    /// Seals `secrets` for `tenant`'s account (the tenant id is the associated data).
    ///
    /// # Errors
    /// [`ExchangeError::Auth`] when no credentials key is configured.
    fn seal(
        &self,
        tenant: TenantId,
        secrets: &VenueSecrets,
        testnet: bool,
    ) -> Result<SealedCredentials, ExchangeError>;

    /// Checks an account's current credentials with a signed read at its venue (paper
    /// accounts: always valid).
    ///
    /// # Errors
    /// The venue's refusal or unavailability.
    fn check(&self, actor: &Actor, account: &ExchangeAccount) -> Result<(), ExchangeError>;

    /// Forgets everything cached for the tenant (account lookup, live clients, positions), so
    /// a change of its account or credentials applies at once.
    fn forget_tenant(&self, tenant: TenantId);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_key_and_hides_the_secrets() {
        let key = "abcd1234efgh5678ijkl9012mnop3456";
        let secret = "s3cr3t-api-secret-value";
        let passphrase = "my-passphrase-value";
        let secrets = VenueSecrets {
            api_key: key.to_owned(),
            api_secret: SecretString::from(secret.to_owned()),
            passphrase: Some(SecretString::from(passphrase.to_owned())),
        };
        let printed = format!("{secrets:?}");
        assert!(!printed.contains(key), "{printed}");
        assert!(!printed.contains(secret), "{printed}");
        assert!(!printed.contains(passphrase), "{printed}");
        assert!(printed.contains("abcd1234***"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}
