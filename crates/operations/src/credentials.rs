//! The tenant's exchange credentials over HTTP (tenant `admin` only): add, list, rotate with a
//! grace period, delete, check. Secrets are sealed by the exchange layer (AES-256-GCM, the
//! tenant id as associated data) before they reach storage; nothing here logs, returns or
//! audits more than the masked key prefix (`abcd1234***`). After every change the exchange
//! router forgets the tenant, so the change applies from the next call.

use std::{sync::Arc, time::Duration as StdDuration};

use alphapulse_domain::{
    ports::{
        AdapterKind, Clock, CredentialsInfo, ExchangeAccount, ExchangeAdmin,
        ExchangeCredentialsRepo, VenueSecrets,
    },
    ExchangeError, Principal, Role, TextEnum, ValidationError,
};
use chrono::{DateTime, Duration, Utc};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::{
    alerts::{describe, AlertRules},
    OpsError, OpsResult,
};

/// The default grace period of a rotation: the replaced key pair signs for 5 more minutes.
pub const DEFAULT_GRACE: StdDuration = StdDuration::from_secs(5 * 60);

/// What a rotation answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rotated {
    /// The venue.
    pub exchange: AdapterKind,
    /// When.
    pub rotated_at: DateTime<Utc>,
    /// Until when the replaced key pair still signs.
    pub old_credentials_valid_until: DateTime<Utc>,
    /// The new key, masked.
    pub api_key_prefix: String,
}

/// `valid` or `invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The venue accepted a signed read.
    Valid,
    /// It did not.
    Invalid,
}

/// What a health check answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// The venue.
    pub exchange: AdapterKind,
    /// The verdict.
    pub status: HealthStatus,
    /// When the check ran.
    pub last_checked: DateTime<Utc>,
    /// Why it is invalid (never the venue's raw answer).
    pub error_message: Option<String>,
}

/// The credentials use cases.
#[derive(Clone)]
pub struct CredentialsService {
    repo: Arc<dyn ExchangeCredentialsRepo>,
    admin: Arc<dyn ExchangeAdmin>,
    rules: AlertRules,
    clock: Arc<dyn Clock>,
    grace: Duration,
}

impl std::fmt::Debug for CredentialsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsService")
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// Credentials exist only for live venues, and each venue has its format. Binance (HMAC keys):
/// 64 letters and digits for the key and the secret.
///
/// # Errors
/// Paper (no credentials), or a key or secret outside the venue's format.
pub fn check_format(venue: AdapterKind, secrets: &VenueSecrets) -> Result<(), ValidationError> {
    let alnum64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    match venue {
        AdapterKind::Paper => Err(ValidationError::new(
            "exchange",
            "paper accounts have no credentials; must be one of: binance",
        )),
        AdapterKind::Binance => {
            if !alnum64(&secrets.api_key) {
                return Err(ValidationError::new(
                    "api_key",
                    "must be 64 letters or digits",
                ));
            }
            if !alnum64(secrets.api_secret.expose_secret()) {
                return Err(ValidationError::new(
                    "api_secret",
                    "must be 64 letters or digits",
                ));
            }
            if let Some(p) = &secrets.passphrase {
                let p = p.expose_secret();
                if p.is_empty() || p.chars().count() > 128 || p.chars().any(char::is_control) {
                    return Err(ValidationError::new(
                        "passphrase",
                        "must be 1 to 128 characters without control characters",
                    ));
                }
            }
            Ok(())
        }
    }
}

fn sealing(err: ExchangeError) -> OpsError {
    tracing::warn!(error = %err, "credentials could not be sealed");
    OpsError::Unavailable("Credentials storage unavailable (no credentials key configured)".into())
}

impl CredentialsService {
    /// The service with the grace period of rotations.
    pub fn new(
        repo: Arc<dyn ExchangeCredentialsRepo>,
        admin: Arc<dyn ExchangeAdmin>,
        rules: AlertRules,
        clock: Arc<dyn Clock>,
        grace: StdDuration,
    ) -> Self {
        Self {
            repo,
            admin,
            rules,
            clock,
            grace: Duration::from_std(grace).unwrap_or(Duration::minutes(5)),
        }
    }

    /// Exchange credentials belong to a tenant: its `admin` manages them (the platform owner,
    /// who also holds the route's permission, has no exchange account of its own).
    fn tenant_admin(caller: &Principal) -> OpsResult<()> {
        if caller.role == Role::Admin {
            Ok(())
        } else {
            Err(OpsError::Forbidden(
                "exchange credentials are managed by the tenant's admin".into(),
            ))
        }
    }

    /// The caller's tenant's credentials.
    ///
    /// # Errors
    /// 403 for platform roles; storage failures.
    pub fn list(&self, caller: &Principal) -> OpsResult<Vec<CredentialsInfo>> {
        Self::tenant_admin(caller)?;
        Ok(self.repo.list(&caller.actor())?)
    }

    /// Stores credentials for `venue`; their account becomes the tenant's active account when
    /// the venue accepts a signed read with them (a key pair the venue refuses, or a venue out
    /// of reach, is stored but not put in use: rotate it, or check it later).
    ///
    /// # Errors
    /// 403, 422 (format), 409 (exist already: rotate or delete), 503 (no credentials key).
    pub fn add(
        &self,
        caller: &Principal,
        venue: AdapterKind,
        secrets: &VenueSecrets,
        testnet: bool,
    ) -> OpsResult<CredentialsInfo> {
        Self::tenant_admin(caller)?;
        check_format(venue, secrets)?;
        let sealed = self
            .admin
            .seal(caller.tenant_id, secrets, testnet)
            .map_err(sealing)?;
        let actor = caller.actor();
        let candidate = ExchangeAccount {
            id: uuid::Uuid::nil(),
            adapter: venue,
            label: venue.as_str().to_owned(),
            credentials_encrypted: Some(sealed.sealed.clone()),
            testnet,
            previous_credentials_encrypted: None,
            previous_valid_until: None,
            paper_cash: rust_decimal::Decimal::ZERO,
            fee_rate: rust_decimal::Decimal::ZERO,
            created_at: self.clock.now(),
        };
        let accepted = match self.admin.check(&actor, &candidate) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(exchange = %venue, error = %err, "new exchange credentials not accepted by the venue; stored inactive");
                false
            }
        };
        let note = caller.note(
            "credentials.create",
            serde_json::json!({
                "exchange": venue.as_str(),
                "api_key_prefix": sealed.api_key_prefix,
                "testnet": testnet,
                "active": accepted,
            }),
        );
        let info = self.repo.add(&actor, venue, &sealed, accepted, &note)?;
        self.admin.forget_tenant(caller.tenant_id);
        tracing::info!(exchange = %venue, api_key_prefix = %info.api_key_prefix, "exchange credentials stored");
        Ok(info)
    }

    /// Replaces the key pair of `venue`; the replaced pair keeps signing for the grace period.
    ///
    /// # Errors
    /// 403, 422, 404 (none stored), 503.
    pub fn rotate(
        &self,
        caller: &Principal,
        venue: AdapterKind,
        secrets: &VenueSecrets,
    ) -> OpsResult<Rotated> {
        Self::tenant_admin(caller)?;
        check_format(venue, secrets)?;
        let actor = caller.actor();
        let account = self
            .repo
            .account(&actor, venue)?
            .ok_or_else(|| OpsError::NotFound(format!("Credentials for {venue}")))?;
        let sealed = self
            .admin
            .seal(caller.tenant_id, secrets, account.testnet)
            .map_err(sealing)?;
        let rotated_at = self.clock.now();
        let valid_until = rotated_at + self.grace;
        let note = caller.note(
            "credentials.rotate",
            serde_json::json!({
                "exchange": venue.as_str(),
                "api_key_prefix": sealed.api_key_prefix,
                "old_credentials_valid_until": valid_until,
            }),
        );
        let info = self
            .repo
            .rotate(&actor, venue, &sealed, rotated_at, valid_until, &note)?;
        self.admin.forget_tenant(caller.tenant_id);
        tracing::info!(exchange = %venue, api_key_prefix = %info.api_key_prefix, valid_until = %valid_until, "exchange credentials rotated");
        Ok(Rotated {
            exchange: venue,
            rotated_at,
            old_credentials_valid_until: valid_until,
            api_key_prefix: info.api_key_prefix,
        })
    }

    /// Deletes the credentials of `venue` (and their account).
    ///
    /// # Errors
    /// 403, 404 (none stored), storage failures.
    pub fn delete(&self, caller: &Principal, venue: AdapterKind) -> OpsResult<()> {
        Self::tenant_admin(caller)?;
        let note = caller.note(
            "credentials.delete",
            serde_json::json!({ "exchange": venue.as_str() }),
        );
        self.repo
            .delete(&caller.actor(), venue, &note)
            .map_err(|e| match e {
                alphapulse_domain::RepoError::NotFound(_) => {
                    OpsError::NotFound(format!("Credentials for {venue}"))
                }
                other => other.into(),
            })?;
        self.admin.forget_tenant(caller.tenant_id);
        tracing::info!(exchange = %venue, "exchange credentials deleted");
        Ok(())
    }

    /// Checks the stored credentials of `venue` with a signed read at the venue; a failure
    /// also raises the account's `exchange` alert.
    ///
    /// # Errors
    /// 403, 404 (none stored), storage failures.
    pub fn health(&self, caller: &Principal, venue: AdapterKind) -> OpsResult<Health> {
        Self::tenant_admin(caller)?;
        let actor = caller.actor();
        let account = self
            .repo
            .account(&actor, venue)?
            .ok_or_else(|| OpsError::NotFound(format!("Credentials for {venue}")))?;
        let checked = self.admin.check(&actor, &account);
        let last_checked = self.clock.now();
        Ok(match checked {
            Ok(()) => Health {
                exchange: venue,
                status: HealthStatus::Valid,
                last_checked,
                error_message: None,
            },
            Err(err) => {
                tracing::warn!(exchange = %venue, error = %err, "exchange credentials check failed");
                self.rules
                    .exchange_failing(&actor, account.id, venue.as_str(), &err);
                Health {
                    exchange: venue,
                    status: HealthStatus::Invalid,
                    last_checked,
                    error_message: Some(describe(&err).1),
                }
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::{
        ports::{
            ManualClock, MockAlertRepo, MockExchangeAdmin, MockExchangeCredentialsRepo,
            SealedCredentials,
        },
        TenantId, UserId,
    };
    use chrono::TimeZone;
    use rust_decimal::Decimal;

    use super::*;

    const KEY: &str = "abcd1234abcd1234abcd1234abcd1234abcd1234abcd1234abcd1234abcd1234";
    const SECRET: &str = "S3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cret0000";

    fn admin() -> Principal {
        Principal {
            tenant_id: TenantId::new_random(),
            user_id: UserId::new_random(),
            role: Role::Admin,
            request_id: None,
            client_request_id: None,
        }
    }

    fn secrets(key: &str, secret: &str) -> VenueSecrets {
        VenueSecrets {
            api_key: key.into(),
            api_secret: secret.to_owned().into(),
            passphrase: None,
        }
    }

    fn account() -> ExchangeAccount {
        ExchangeAccount {
            id: uuid::Uuid::new_v4(),
            adapter: AdapterKind::Binance,
            label: "binance".into(),
            credentials_encrypted: Some("sealed".into()),
            testnet: true,
            previous_credentials_encrypted: None,
            previous_valid_until: None,
            paper_cash: Decimal::ZERO,
            fee_rate: Decimal::ZERO,
            created_at: Utc::now(),
        }
    }

    fn info(prefix: &str) -> CredentialsInfo {
        CredentialsInfo {
            exchange: AdapterKind::Binance,
            testnet: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            has_passphrase: false,
            api_key_prefix: prefix.into(),
            active: true,
            rotated_at: None,
            previous_valid_until: None,
        }
    }

    fn sealer() -> MockExchangeAdmin {
        let mut admin = MockExchangeAdmin::new();
        admin.expect_seal().returning(|_, s, testnet| {
            Ok(SealedCredentials {
                sealed: "sealed".into(),
                api_key_prefix: s.masked_key(),
                has_passphrase: false,
                testnet,
            })
        });
        admin
    }

    #[test]
    fn rotation_keeps_the_old_pair_for_the_configured_grace_by_the_clock() {
        let now = Utc.with_ymd_and_hms(2025, 12, 3, 12, 0, 0).unwrap();
        let mut repo = MockExchangeCredentialsRepo::new();
        repo.expect_account().returning(|_, _| Ok(Some(account())));
        repo.expect_rotate()
            .withf(move |_, venue, sealed, at, until, note| {
                *venue == AdapterKind::Binance
                    && sealed.testnet
                    && *at == now
                    && *until == now + Duration::minutes(7)
                    && note.details["api_key_prefix"] == "NEWKEY12***"
                    && !note.details.to_string().contains(SECRET)
            })
            .returning(|_, _, _, _, _, _| Ok(info("NEWKEY12***")));
        let mut sealing = sealer();
        sealing.expect_forget_tenant().times(1).return_const(());
        let service = CredentialsService::new(
            Arc::new(repo),
            Arc::new(sealing),
            AlertRules::new(Arc::new(MockAlertRepo::new())),
            Arc::new(ManualClock::new(now)),
            StdDuration::from_secs(7 * 60),
        );
        let new_key = format!("NEWKEY12{}", &KEY[8..]);
        let rotated = service
            .rotate(&admin(), AdapterKind::Binance, &secrets(&new_key, SECRET))
            .unwrap();
        assert_eq!(rotated.rotated_at, now);
        assert_eq!(
            rotated.old_credentials_valid_until,
            now + Duration::minutes(7)
        );
        assert_eq!(rotated.api_key_prefix, "NEWKEY12***");
    }

    #[test]
    fn new_credentials_are_put_in_use_only_when_the_venue_accepts_them() {
        for accepted in [true, false] {
            let mut repo = MockExchangeCredentialsRepo::new();
            repo.expect_add()
                .withf(move |_, venue, sealed, activate, note| {
                    *venue == AdapterKind::Binance
                        && sealed.api_key_prefix == "abcd1234***"
                        && *activate == accepted
                        && note.details["active"] == accepted
                        && !note.details.to_string().contains(SECRET)
                })
                .times(1)
                .returning(|_, _, _, _, _| Ok(info("abcd1234***")));
            let mut admin = sealer();
            admin.expect_check().times(1).returning(move |_, account| {
                assert_eq!(account.credentials_encrypted.as_deref(), Some("sealed"));
                if accepted {
                    Ok(())
                } else {
                    Err(ExchangeError::Unavailable("unreachable".into()))
                }
            });
            admin.expect_forget_tenant().times(1).return_const(());
            let service = CredentialsService::new(
                Arc::new(repo),
                Arc::new(admin),
                AlertRules::new(Arc::new(MockAlertRepo::new())),
                Arc::new(ManualClock::new(Utc::now())),
                DEFAULT_GRACE,
            );
            service
                .add(
                    &super::tests::admin(),
                    AdapterKind::Binance,
                    &secrets(KEY, SECRET),
                    false,
                )
                .unwrap();
        }
    }

    #[test]
    fn formats_roles_and_missing_credentials_are_refused() {
        let service = CredentialsService::new(
            Arc::new({
                let mut repo = MockExchangeCredentialsRepo::new();
                repo.expect_account().returning(|_, _| Ok(None));
                repo
            }),
            Arc::new(MockExchangeAdmin::new()),
            AlertRules::new(Arc::new(MockAlertRepo::new())),
            Arc::new(ManualClock::new(Utc::now())),
            DEFAULT_GRACE,
        );
        let short = service.add(
            &admin(),
            AdapterKind::Binance,
            &secrets(KEY, "short"),
            false,
        );
        assert!(matches!(short, Err(OpsError::Invalid(v)) if v.field == "api_secret"));
        let paper = service.add(&admin(), AdapterKind::Paper, &secrets(KEY, SECRET), false);
        assert!(matches!(paper, Err(OpsError::Invalid(v)) if v.field == "exchange"));
        let owner = Principal {
            role: Role::Owner,
            ..admin()
        };
        assert!(matches!(service.list(&owner), Err(OpsError::Forbidden(_))));
        assert!(matches!(
            service.rotate(&admin(), AdapterKind::Binance, &secrets(KEY, SECRET)),
            Err(OpsError::NotFound(_))
        ));
    }

    #[test]
    fn a_failed_check_is_invalid_with_a_safe_message_and_an_alert() {
        let mut repo = MockExchangeCredentialsRepo::new();
        repo.expect_account().returning(|_, _| Ok(Some(account())));
        let mut admin = MockExchangeAdmin::new();
        admin
            .expect_check()
            .returning(|_, _| Err(ExchangeError::Auth("venue said: key XYZ".into())));
        let mut alerts = MockAlertRepo::new();
        alerts.expect_raise().times(1).returning(|_, _| Ok(None));
        let service = CredentialsService::new(
            Arc::new(repo),
            Arc::new(admin),
            AlertRules::new(Arc::new(alerts)),
            Arc::new(ManualClock::new(Utc::now())),
            DEFAULT_GRACE,
        );
        let health = service
            .health(&super::tests::admin(), AdapterKind::Binance)
            .unwrap();
        assert_eq!(health.status, HealthStatus::Invalid);
        assert!(!health.error_message.unwrap().contains("XYZ"));
    }
}
