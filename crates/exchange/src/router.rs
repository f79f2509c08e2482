//! Per-tenant routing: each call goes to the adapter of the tenant's active exchange account
//! (paper when it has none). Live adapters are built from the account's encrypted credentials,
//! decrypted with the tenant id as associated data, and kept per tenant and account.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alphapulse_domain::{
    ports::{Actor, AdapterKind, ExchangeAccount, ExchangeAccountRepo},
    Candle, ExchangeClient, ExchangeError, FuturesPosition, Market, OrderAck, OrderRequest,
    SpotBalance, Symbol, TenantId,
};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::{
    binance::{BinanceConfig, BinanceCredentials, BinanceExchange},
    paper::{from_repo, PaperExchange},
    CredentialsCipher,
};

#[derive(Deserialize)]
struct StoredCredentials {
    api_key: String,
    api_secret: String,
}

/// The [`ExchangeClient`] the services use.
pub struct ExchangeRouter {
    accounts: Arc<dyn ExchangeAccountRepo>,
    paper: PaperExchange,
    cipher: Option<CredentialsCipher>,
    binance: BinanceConfig,
    live: Mutex<HashMap<(TenantId, uuid::Uuid), Arc<BinanceExchange>>>,
    accounts_seen: Mutex<HashMap<TenantId, (Instant, Option<ExchangeAccount>)>>,
}

/// How long a tenant's active-account lookup is reused: switching a tenant's account takes
/// effect within this time, and the positions hot path skips one transaction per request.
pub const ACCOUNT_TTL: Duration = Duration::from_secs(5);

impl std::fmt::Debug for ExchangeRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeRouter").finish_non_exhaustive()
    }
}

impl ExchangeRouter {
    /// A router; without a cipher, tenants with live accounts get [`ExchangeError::Auth`].
    pub fn new(
        accounts: Arc<dyn ExchangeAccountRepo>,
        paper: PaperExchange,
        cipher: Option<CredentialsCipher>,
        binance: BinanceConfig,
    ) -> Self {
        Self {
            accounts,
            paper,
            cipher,
            binance,
            live: Mutex::new(HashMap::new()),
            accounts_seen: Mutex::new(HashMap::new()),
        }
    }

    fn active_account(&self, actor: &Actor) -> Result<Option<ExchangeAccount>, ExchangeError> {
        if let Some((at, account)) = self
            .accounts_seen
            .lock()
            .ok()
            .and_then(|m| m.get(&actor.tenant_id).cloned())
        {
            if at.elapsed() < ACCOUNT_TTL {
                return Ok(account);
            }
        }
        let account = self.accounts.active(actor).map_err(from_repo)?;
        if let Ok(mut seen) = self.accounts_seen.lock() {
            if seen.len() > 10_000 {
                seen.clear();
            }
            seen.insert(actor.tenant_id, (Instant::now(), account.clone()));
        }
        Ok(account)
    }

    fn route(&self, actor: &Actor) -> Result<Arc<dyn ExchangeClient>, ExchangeError> {
        let account = self.active_account(actor)?;
        let Some(account) = account.filter(|a| a.adapter == AdapterKind::Binance) else {
            return Ok(Arc::new(self.paper.clone()));
        };
        let key = (actor.tenant_id, account.id);
        if let Some(client) = self.live.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(client);
        }
        let cipher = self
            .cipher
            .as_ref()
            .ok_or_else(|| ExchangeError::Auth("no credentials key configured".into()))?;
        let sealed = account
            .credentials_encrypted
            .as_deref()
            .ok_or_else(|| ExchangeError::Auth("account has no credentials".into()))?;
        let plain = cipher
            .decrypt(sealed, actor.tenant_id.as_uuid().as_bytes())
            .map_err(|_| ExchangeError::Auth("stored credentials cannot be decrypted".into()))?;
        let creds: StoredCredentials = serde_json::from_slice(&plain)
            .map_err(|_| ExchangeError::Auth("stored credentials are malformed".into()))?;
        let client = Arc::new(BinanceExchange::new(
            &BinanceCredentials::new(creds.api_key, creds.api_secret),
            &self.binance,
        )?);
        if let Ok(mut live) = self.live.lock() {
            live.insert(key, client.clone());
        }
        Ok(client)
    }
}

impl ExchangeClient for ExchangeRouter {
    fn spot_valued(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, ExchangeError> {
        self.route(actor)?.spot_valued(actor)
    }

    fn spot_balances(&self, actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
        self.route(actor)?.spot_balances(actor)
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
        self.route(actor)?.futures_positions(actor)
    }

    fn prices(
        &self,
        actor: &Actor,
        market: Market,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        self.route(actor)?.prices(actor, market, symbols)
    }

    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.route(actor)?.daily_candles(actor, symbol, limit)
    }

    fn place_order(&self, actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        self.route(actor)?.place_order(actor, order)
    }
}
