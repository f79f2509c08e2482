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
//! once after [`ExchangeRouter::forget_tenant`] (which also drops the tenant's live clients and
//! cached positions).
//!
//! # Rotation grace period
//!
//! After a rotation the account row keeps the replaced credentials (sealed) and the end of the
//! grace period. The live client holds both key pairs: calls sign with the new pair, and a call
//! the venue refuses as unauthorised ([`ExchangeError::Auth`]: key not yet enabled, wrong
//! permissions) is signed again with the old pair while the router's clock (the venue's
//! [`Clock`](alphapulse_domain::ports::Clock)) is before the end of the grace period; after it,
//! the old pair never signs. An order refused for its credentials was not placed, so signing it
//! again cannot place it twice.
//!
//! Accounts flagged `testnet` go to the venue's test network (a second [`BinanceVenue`] on
//! [`SPOT_TESTNET_BASE_URL`] and [`FUTURES_TESTNET_BASE_URL`], with the main venue's other
//! settings and clock). Paper accounts' reads are local database reads
//! and are not cached. An order placed through a live account drops that account's cached
//! positions and holdings, so a read after it sees the fill.
//!
//! Live accounts' positions are cached because Binance counts request weight per server
//! address: a tenant polling positions in a loop would otherwise spend the weight of every
//! tenant and risk a ban of the address (see [`BinanceVenue`] for the back-off that follows).

mod metrics;
#[cfg(test)]
mod tests;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{
        mask_key, Actor, AdapterKind, CacheStat, CacheStatsSource, ExchangeAccount,
        ExchangeAccountRepo, ExchangeAdmin, SealedCredentials, VenueSecrets,
    },
    AccountFuture, AccountView, Candle, ExchangeClient, ExchangeError, FuturesMarkedFuture,
    FuturesPosition, Market, OrderAck, OrderRequest, SpotBalance, SpotValuedFuture, Symbol,
    TenantId,
};
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    binance::{
        BinanceConfig, BinanceCredentials, BinanceExchange, BinanceVenue, FUTURES_TESTNET_BASE_URL,
        SPOT_TESTNET_BASE_URL,
    },
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

/// The same, as sealed (serialised only inside [`ExchangeRouter::seal`], then encrypted).
#[derive(Serialize)]
struct SealedJson<'a> {
    api_key: &'a str,
    api_secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase: Option<&'a str>,
}

/// A live account's clients: the current key pair and, during a rotation's grace period, the
/// replaced one.
struct LiveAccount {
    current: BinanceExchange,
    previous: Option<(BinanceExchange, DateTime<Utc>)>,
}

impl LiveAccount {
    /// `f` with the current pair; if the venue refuses it as unauthorised and the grace period
    /// of the previous pair runs at `now`, `f` again with the previous pair.
    fn call<T>(
        &self,
        now: DateTime<Utc>,
        f: impl Fn(&BinanceExchange) -> Result<T, ExchangeError>,
    ) -> Result<T, ExchangeError> {
        let signed = |client: &BinanceExchange| {
            let out = f(client);
            metrics::record_venue_call(metrics::VENUE_BINANCE, &out);
            out
        };
        match signed(&self.current) {
            Err(ExchangeError::Auth(why)) => match &self.previous {
                Some((previous, until)) if now < *until => {
                    tracing::info!(
                        valid_until = %until,
                        "current credentials refused; signing with the rotated-out pair"
                    );
                    signed(previous)
                }
                _ => Err(ExchangeError::Auth(why)),
            },
            other => other,
        }
    }
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
    Live(LiveKey, Arc<LiveAccount>),
}

/// The [`ExchangeClient`] the services use.
pub struct ExchangeRouter {
    accounts: Arc<dyn ExchangeAccountRepo>,
    paper: PaperExchange,
    cipher: Option<CredentialsCipher>,
    venue: BinanceVenue,
    testnet: BinanceVenue,
    active: Cache<TenantId, Option<ExchangeAccount>>,
    live: Cache<LiveKey, Arc<LiveAccount>>,
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
        let venue = venue.into();
        let testnet = BinanceVenue::with_clock(
            BinanceConfig {
                spot_base_url: SPOT_TESTNET_BASE_URL.to_owned(),
                futures_base_url: FUTURES_TESTNET_BASE_URL.to_owned(),
                ..venue.config().clone()
            },
            venue.clock(),
        );
        Self {
            accounts,
            paper,
            cipher,
            venue,
            testnet,
            active: Cache::builder()
                .max_capacity(MAX_TENANTS)
                .time_to_live(ACCOUNT_TTL)
                .build(),
            live: Cache::builder()
                .max_capacity(MAX_TENANTS)
                .time_to_idle(CLIENT_IDLE)
                .support_invalidation_closures()
                .build(),
            futures_positions: positions_cache(),
            spot_valued: positions_cache(),
        }
    }

    /// Forgets what is cached for the tenant — its account lookup, live clients (and the
    /// decrypted secrets they hold) and live positions — so a change of its exchange account
    /// (another account, new or deleted credentials) applies from the next call rather than
    /// within [`ACCOUNT_TTL`].
    pub fn forget_tenant(&self, tenant: TenantId) {
        self.active.invalidate(&tenant);
        // Cannot fail: every cache below is built with invalidation closures.
        let _ = self
            .live
            .invalidate_entries_if(move |key, _| key.tenant == tenant);
        let _ = self
            .futures_positions
            .invalidate_entries_if(move |key, _| key.tenant == tenant);
        let _ = self
            .spot_valued
            .invalidate_entries_if(move |key, _| key.tenant == tenant);
    }

    fn venue_of(&self, account: &ExchangeAccount) -> &BinanceVenue {
        if account.testnet {
            &self.testnet
        } else {
            &self.venue
        }
    }

    fn cipher(&self) -> Result<&CredentialsCipher, ExchangeError> {
        self.cipher
            .as_ref()
            .ok_or_else(|| ExchangeError::Auth("no credentials key configured".into()))
    }

    /// `Some` when the tenant's active account is in the cache and is not a live venue: the
    /// condition for a non-blocking read (a miss would need a blocking lookup; live venues
    /// are blocking HTTP clients).
    fn paper_known(&self, actor: &Actor) -> Option<()> {
        let account = self.active.get(&actor.tenant_id)?;
        account
            .is_none_or(|a| a.adapter != AdapterKind::Binance)
            .then_some(())
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
        let cipher = self.cipher()?;
        let sealed = account
            .credentials_encrypted
            .as_deref()
            .ok_or_else(|| ExchangeError::Auth("account has no credentials".into()))?;
        let mut digest = Sha256::new();
        digest.update(sealed.as_bytes());
        if let (Some(previous), Some(until)) = (
            &account.previous_credentials_encrypted,
            account.previous_valid_until,
        ) {
            digest.update(b"\0");
            digest.update(previous.as_bytes());
            digest.update(until.timestamp_micros().to_be_bytes());
        }
        digest.update([u8::from(account.testnet)]);
        let key = LiveKey {
            tenant: actor.tenant_id,
            account: account.id,
            credentials: digest.finalize().into(),
        };
        let client = self
            .live
            .try_get_with_by_ref(&key, || {
                self.live_account(cipher, &account, actor.tenant_id)
            })
            .map_err(Arc::unwrap_or_clone)?;
        Ok(Route::Live(key, client))
    }

    fn live_account(
        &self,
        cipher: &CredentialsCipher,
        account: &ExchangeAccount,
        tenant: TenantId,
    ) -> Result<Arc<LiveAccount>, ExchangeError> {
        let venue = self.venue_of(account);
        let sealed = account
            .credentials_encrypted
            .as_deref()
            .ok_or_else(|| ExchangeError::Auth("account has no credentials".into()))?;
        let current = self.live_client(cipher, sealed, tenant, venue)?;
        let previous = match (
            &account.previous_credentials_encrypted,
            account.previous_valid_until,
        ) {
            (Some(previous), Some(until)) if self.venue.now() < until => {
                Some((self.live_client(cipher, previous, tenant, venue)?, until))
            }
            _ => None,
        };
        Ok(Arc::new(LiveAccount { current, previous }))
    }

    fn live_client(
        &self,
        cipher: &CredentialsCipher,
        sealed: &str,
        tenant: TenantId,
        venue: &BinanceVenue,
    ) -> Result<BinanceExchange, ExchangeError> {
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
        BinanceExchange::new(&credentials, venue)
    }

    /// Seals a key pair for `tenant` (see [`ExchangeAdmin::seal`]).
    ///
    /// # Errors
    /// [`ExchangeError::Auth`] without a credentials key; [`ExchangeError::Other`] when
    /// encryption fails.
    pub fn seal(
        &self,
        tenant: TenantId,
        secrets: &VenueSecrets,
        testnet: bool,
    ) -> Result<SealedCredentials, ExchangeError> {
        let cipher = self.cipher()?;
        // Zeroed when dropped, like the secrets it holds.
        let plain = secrecy::SecretString::from(
            serde_json::to_string(&SealedJson {
                api_key: &secrets.api_key,
                api_secret: secrets.api_secret.expose_secret(),
                passphrase: secrets.passphrase.as_ref().map(|p| p.expose_secret()),
            })
            .map_err(|_| ExchangeError::Other("credentials could not be sealed".into()))?,
        );
        let sealed = cipher
            .encrypt(
                plain.expose_secret().as_bytes(),
                tenant.as_uuid().as_bytes(),
            )
            .map_err(|_| ExchangeError::Other("credentials could not be sealed".into()))?;
        Ok(SealedCredentials {
            sealed,
            api_key_prefix: mask_key(&secrets.api_key),
            has_passphrase: secrets.passphrase.is_some(),
            testnet,
        })
    }

    /// A signed read with the account's current credentials (paper: nothing to check).
    ///
    /// # Errors
    /// The venue's refusal or unavailability; credentials that cannot be opened.
    pub fn check(&self, actor: &Actor, account: &ExchangeAccount) -> Result<(), ExchangeError> {
        if account.adapter == AdapterKind::Paper {
            return Ok(());
        }
        let sealed = account
            .credentials_encrypted
            .as_deref()
            .ok_or_else(|| ExchangeError::Auth("account has no credentials".into()))?;
        let client = self.live_client(
            self.cipher()?,
            sealed,
            actor.tenant_id,
            self.venue_of(account),
        )?;
        client.spot().balances().map(|_| ())
    }
}

impl ExchangeAdmin for ExchangeRouter {
    fn seal(
        &self,
        tenant: TenantId,
        secrets: &VenueSecrets,
        testnet: bool,
    ) -> Result<SealedCredentials, ExchangeError> {
        ExchangeRouter::seal(self, tenant, secrets, testnet)
    }

    fn check(&self, actor: &Actor, account: &ExchangeAccount) -> Result<(), ExchangeError> {
        ExchangeRouter::check(self, actor, account)
    }

    fn forget_tenant(&self, tenant: TenantId) {
        ExchangeRouter::forget_tenant(self, tenant);
    }
}

impl CacheStatsSource for ExchangeRouter {
    fn cache_stats(&self) -> Vec<CacheStat> {
        let stat = |name: &str, entries: u64| CacheStat {
            name: name.to_owned(),
            entries,
            capacity: MAX_TENANTS,
            hits: None,
            misses: None,
        };
        vec![
            stat("exchange_active_accounts", self.active.entry_count()),
            stat("exchange_live_clients", self.live.entry_count()),
            stat(
                "exchange_futures_positions",
                self.futures_positions.entry_count(),
            ),
            stat("exchange_spot_holdings", self.spot_valued.entry_count()),
        ]
    }
}

fn positions_cache<V: Clone + Send + Sync + 'static>() -> Cache<LiveKey, V> {
    Cache::builder()
        .max_capacity(MAX_TENANTS)
        .time_to_live(POSITIONS_TTL)
        .support_invalidation_closures()
        .build()
}

impl ExchangeClient for ExchangeRouter {
    /// Only for a tenant whose active account is in the cache and is not a live venue (a miss
    /// would need a blocking read; live venues are blocking HTTP clients).
    fn spot_valued_nonblocking(&self, actor: &Actor) -> Option<SpotValuedFuture> {
        self.paper_known(actor)?;
        self.paper.spot_valued_nonblocking(actor)
    }

    /// As [`ExchangeClient::spot_valued_nonblocking`]: a cached paper account only.
    fn account_view_nonblocking(&self, actor: &Actor) -> Option<AccountFuture> {
        self.paper_known(actor)?;
        self.paper.account_view_nonblocking(actor)
    }

    /// As [`ExchangeClient::spot_valued_nonblocking`]: a cached paper account only.
    fn futures_marked_nonblocking(&self, actor: &Actor) -> Option<FuturesMarkedFuture> {
        self.paper_known(actor)?;
        self.paper.futures_marked_nonblocking(actor)
    }

    fn spot_valued(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.spot_valued(actor),
            Route::Live(key, client) => self
                .spot_valued
                .try_get_with(key, || {
                    client.call(self.venue.now(), |c| c.spot_valued(actor))
                })
                .map_err(Arc::unwrap_or_clone),
        }
    }

    fn spot_balances(&self, actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.spot_balances(actor),
            Route::Live(_, client) => client.call(self.venue.now(), |c| c.spot_balances(actor)),
        }
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.futures_positions(actor),
            Route::Live(key, client) => self
                .futures_positions
                .try_get_with(key, || {
                    client.call(self.venue.now(), |c| c.futures_positions(actor))
                })
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
            Route::Live(_, client) => {
                client.call(self.venue.now(), |c| c.prices(actor, market, symbols))
            }
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
            Route::Live(_, client) => {
                client.call(self.venue.now(), |c| c.daily_candles(actor, symbol, limit))
            }
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
                    .try_get_with(key.clone(), || {
                        client.call(self.venue.now(), |c| c.spot_valued(actor))
                    })
                    .map_err(Arc::unwrap_or_clone)?,
                futures: self
                    .futures_positions
                    .try_get_with(key, || {
                        client.call(self.venue.now(), |c| c.futures_positions(actor))
                    })
                    .map_err(Arc::unwrap_or_clone)?,
                cash: client.call(self.venue.now(), |c| c.cash(actor))?,
            }),
        }
    }

    fn cash(&self, actor: &Actor) -> Result<Decimal, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.cash(actor),
            Route::Live(_, client) => client.call(self.venue.now(), |c| c.cash(actor)),
        }
    }

    /// On a live account, drops its cached positions and holdings whatever the outcome (an
    /// unavailable venue may still have placed the order).
    fn place_order(&self, actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        match self.route(actor)? {
            Route::Paper => self.paper.place_order(actor, order),
            Route::Live(key, client) => {
                let ack = client.call(self.venue.now(), |c| c.place_order(actor, order));
                self.futures_positions.invalidate(&key);
                self.spot_valued.invalidate(&key);
                ack
            }
        }
    }
}
