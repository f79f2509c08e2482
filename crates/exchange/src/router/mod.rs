//! Per-tenant routing: each call goes to the adapter of the tenant's active exchange account
//! (paper when it has none). Live adapters are built from the account's encrypted credentials,
//! decrypted with the tenant id as associated data, and kept per tenant account.
//!
//! # Caches and their bounds
//!
//! All are [`moka`] caches, bounded in entries and in time; concurrent first use of one key
//! loads once (the other callers wait for that result). Failures are never cached.
//!
//! | what | key | bound | lifetime |
//! |---|---|---|---|
//! | active account lookup | tenant | [`MAX_TENANTS`] | [`ACCOUNT_TTL`] after the lookup |
//! | live client (decrypted credentials) | tenant, account, credentials digest | [`MAX_TENANTS`] | [`CLIENT_IDLE`] unused |
//! | live futures positions, live valued spot holdings | as live clients | [`MAX_TENANTS`] each | [`POSITIONS_TTL`] after the read |
//!
//! A change of a tenant's account — another account, or new credentials for the same one (the
//! credentials digest is part of the client's key) — takes effect within [`ACCOUNT_TTL`], or at
//! once after [`ExchangeRouter::forget_tenant`]. Paper accounts' reads are local database reads
//! and are not cached. An order placed through a live account drops that account's cached
//! positions and holdings, so a read after it sees the fill.
//!
//! Live accounts' positions are cached because Binance counts request weight per server
//! address: a tenant polling positions in a loop would otherwise spend the weight of every
//! tenant and risk a ban of the address (see [`BinanceVenue`] for the back-off that follows).

#[cfg(test)]
mod tests;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{Actor, AdapterKind, ExchangeAccount, ExchangeAccountRepo},
    AccountView, Candle, ExchangeClient, ExchangeError, FuturesPosition, Market, OrderAck,
    OrderRequest, SpotBalance, Symbol, TenantId,
};
use moka::sync::Cache;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{
    binance::{BinanceCredentials, BinanceExchange, BinanceVenue},
    paper::{from_repo, PaperExchange},
    CredentialsCipher,
};

/// How long a tenant's active-account lookup is reused: switching a tenant's account takes
/// effect within this time, and the positions hot path skips one transaction per request.
pub const ACCOUNT_TTL: Duration = Duration::from_secs(5);

/// How long a live account's futures positions and valued spot holdings are reused.
pub const POSITIONS_TTL: Duration = Duration::from_secs(3);

/// How long an unused live client (holding its account's decrypted secret) is kept.
pub const CLIENT_IDLE: Duration = Duration::from_secs(10 * 60);

/// Entries each cache holds at most (least recently and frequently used go first).
pub const MAX_TENANTS: u64 = 10_000;

/// The credentials JSON sealed in an account row.
#[derive(Deserialize)]
struct StoredCredentials {
    api_key: String,
    api_secret: SecretString,
}

/// A live client's identity: a new credentials text is a new client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LiveKey {
    tenant: TenantId,
    account: uuid::Uuid,
    credentials: [u8; 32],
}

enum Route {
    Paper,
    Live(LiveKey, Arc<BinanceExchange>),
}

/// The [`ExchangeClient`] the services use.
pub struct ExchangeRouter {
    accounts: Arc<dyn ExchangeAccountRepo>,
    paper: PaperExchange,
    cipher: Option<CredentialsCipher>,
    venue: BinanceVenue,
    active: Cache<TenantId, Option<ExchangeAccount>>,
    live: Cache<LiveKey, Arc<BinanceExchange>>,
    futures_positions: Cache<LiveKey, Vec<FuturesPosition>>,
    spot_valued: Cache<LiveKey, Vec<(SpotBalance, Option<Decimal>)>>,
}

impl std::fmt::Debug for ExchangeRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeRouter")
            .field("venue", &self.venue)
            .field("live_clients", &self.live.entry_count())
            .finish_non_exhaustive()
    }
}

impl ExchangeRouter {
    /// A router; without a cipher, tenants with live accounts get [`ExchangeError::Auth`].
    ///
    /// `venue` is the process's one [`BinanceVenue`] (or the [`BinanceConfig`] to make it
    /// from): every tenant's live client shares its HTTP client and back-off, so build one
    /// router per process.
    ///
    /// [`BinanceConfig`]: crate::BinanceConfig
    pub fn new(
        accounts: Arc<dyn ExchangeAccountRepo>,
        paper: PaperExchange,
        cipher: Option<CredentialsCipher>,
        venue: impl Into<BinanceVenue>,
    ) -> Self {
        Self {
            accounts,
            paper,
            cipher,
            venue: venue.into(),
            active: Cache::builder()
                .max_capacity(MAX_TENANTS)
                .time_to_live(ACCOUNT_TTL)
                .build(),
            live: Cache::builder()
                .max_capacity(MAX_TENANTS)
                .time_to_idle(CLIENT_IDLE)
                .build(),
            futures_positions: positions_cache(),
            spot_valued: positions_cache(),
        }
    }

    /// Forgets the tenant's cached account lookup, so a change of its exchange account (another
    /// account, new credentials) applies from the next call rather than within [`ACCOUNT_TTL`].
    pub fn forget_tenant(&self, tenant: TenantId) {
        self.active.invalidate(&tenant);
    }

    fn route(&self, actor: &Actor) -> Result<Route, ExchangeError> {
        let account = self
            .active
            .try_get_with(actor.tenant_id, || {
                self.accounts.active(actor).map_err(from_repo)
            })
            .map_err(Arc::unwrap_or_clone)?;
        let Some(account) = account.filter(|a| a.adapter == AdapterKind::Binance) else {
            return Ok(Route::Paper);
        };
        let cipher = self
            .cipher
            .as_ref()
            .ok_or_else(|| ExchangeError::Auth("no credentials key configured".into()))?;
        let sealed = account
            .credentials_encrypted
            .as_deref()
            .ok_or_else(|| ExchangeError::Auth("account has no credentials".into()))?;
        let key = LiveKey {
            tenant: actor.tenant_id,
            account: account.id,
            credentials: Sha256::digest(sealed.as_bytes()).into(),
        };
        let client = self
            .live
            .try_get_with_by_ref(&key, || self.live_client(cipher, sealed, actor.tenant_id))
            .map_err(Arc::unwrap_or_clone)?;
        Ok(Route::Live(key, client))
    }

    fn live_client(
        &self,
        cipher: &CredentialsCipher,
        sealed: &str,
        tenant: TenantId,
    ) -> Result<Arc<BinanceExchange>, ExchangeError> {
        // Zeroed when dropped, like the secret it holds.
        let plain = secrecy::SecretSlice::from(
            cipher
                .decrypt(sealed, tenant.as_uuid().as_bytes())
                .map_err(|_| {
                    ExchangeError::Auth("stored credentials cannot be decrypted".into())
                })?,
        );
        let creds: StoredCredentials =
            serde_json::from_slice(secrecy::ExposeSecret::expose_secret(&plain))
                .map_err(|_| ExchangeError::Auth("stored credentials are malformed".into()))?;
        let credentials = BinanceCredentials::new(creds.api_key, creds.api_secret);
        Ok(Arc::new(BinanceExchange::new(&credentials, &self.venue)?))
    }
}

fn positions_cache<V: Clone + Send + Sync + 'static>() -> Cache<LiveKey, V> {
    Cache::builder()
        .max_capacity(MAX_TENANTS)
        .time_to_live(POSITIONS_TTL)
        .build()
}

impl ExchangeClient for ExchangeRouter {
    fn spot_valued(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.spot_valued(actor),
            Route::Live(key, client) => self
                .spot_valued
                .try_get_with(key, || client.spot_valued(actor))
                .map_err(Arc::unwrap_or_clone),
        }
    }

    fn spot_balances(&self, actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.spot_balances(actor),
            Route::Live(_, client) => client.spot_balances(actor),
        }
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.futures_positions(actor),
            Route::Live(key, client) => self
                .futures_positions
                .try_get_with(key, || client.futures_positions(actor))
                .map_err(Arc::unwrap_or_clone),
        }
    }

    fn prices(
        &self,
        actor: &Actor,
        market: Market,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.prices(actor, market, symbols),
            Route::Live(_, client) => client.prices(actor, market, symbols),
        }
    }

    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.daily_candles(actor, symbol, limit),
            Route::Live(_, client) => client.daily_candles(actor, symbol, limit),
        }
    }

    /// Paper: one database transaction. Live: the cached holdings and positions, and the
    /// cash.
    fn account_view(&self, actor: &Actor) -> Result<AccountView, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.account_view(actor),
            Route::Live(key, client) => Ok(AccountView {
                spot: self
                    .spot_valued
                    .try_get_with(key.clone(), || client.spot_valued(actor))
                    .map_err(Arc::unwrap_or_clone)?,
                futures: self
                    .futures_positions
                    .try_get_with(key, || client.futures_positions(actor))
                    .map_err(Arc::unwrap_or_clone)?,
                cash: client.cash(actor)?,
            }),
        }
    }

    fn cash(&self, actor: &Actor) -> Result<Decimal, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.cash(actor),
            Route::Live(_, client) => client.cash(actor),
        }
    }

    /// On a live account, drops its cached positions and holdings whatever the outcome (an
    /// unavailable venue may still have placed the order).
    fn place_order(&self, actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.place_order(actor, order),
            Route::Live(key, client) => {
                let ack = client.place_order(actor, order);
                self.futures_positions.invalidate(&key);
                self.spot_valued.invalidate(&key);
                ack
            }
        }
    }
}
