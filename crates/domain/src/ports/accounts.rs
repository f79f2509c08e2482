use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::RepoError;

/// Which adapter serves a tenant's exchange account.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum AdapterKind {
    /// The database-backed paper exchange.
    Paper,
    /// Binance spot + USD-M futures.
    Binance,
}

impl crate::TextEnum for AdapterKind {
    const FIELD: &'static str = "adapter";
}

/// A tenant's exchange account. The credentials stay encrypted here; only the exchange
/// layer decrypts them, and no endpoint ever returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeAccount {
    /// Identifier.
    pub id: uuid::Uuid,
    /// Adapter.
    pub adapter: AdapterKind,
    /// A name for people.
    pub label: String,
    /// `base64(nonce || AES-GCM ciphertext)` of the credentials JSON (`None` for paper).
    #[serde(skip_serializing)]
    pub credentials_encrypted: Option<String>,
    /// The venue's test network (live adapters).
    pub testnet: bool,
    /// After a rotation: the replaced credentials, sealed like `credentials_encrypted`; they
    /// still sign until `previous_valid_until`.
    #[serde(skip_serializing)]
    pub previous_credentials_encrypted: Option<String>,
    /// End of the rotation's grace period.
    pub previous_valid_until: Option<DateTime<Utc>>,
    /// Paper: quote-asset cash.
    pub paper_cash: Decimal,
    /// Paper: fee rate per fill (e.g. 0.001 = 10 bp).
    pub fee_rate: Decimal,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Input for an account.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExchangeAccount {
    /// Adapter.
    pub adapter: AdapterKind,
    /// Label.
    pub label: String,
    /// Encrypted credentials (required for live adapters).
    pub credentials_encrypted: Option<String>,
    /// Paper cash.
    pub paper_cash: Decimal,
    /// Paper fee rate.
    pub fee_rate: Decimal,
}

/// Per-tenant exchange accounts (row-level security like every tenant table).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ExchangeAccountRepo: Send + Sync {
    /// The tenant's active account, if any.
    fn active(&self, actor: &Actor) -> Result<Option<ExchangeAccount>, RepoError>;

    /// Makes `new` the tenant's active account (deactivating the previous one).
    fn activate(
        &self,
        actor: &Actor,
        new: NewExchangeAccount,
    ) -> Result<ExchangeAccount, RepoError>;
}
