//! The "exchange account failing" rule, evaluated on every exchange call: an
//! [`ExchangeClient`] in front of the real one that passes every call through and, when a
//! live account's call fails for the account's sake (credentials refused, venue unreachable,
//! rate-limited), raises an alert of source `exchange` deduplicated per account.
//!
//! A failing account is looked up and alerted at most once per [`RECHECK_AFTER`] per tenant
//! (a bounded `moka` cache remembers the tenants alerted recently), so a tenant polling a dead
//! account does not write once per request; the alert itself stays open until acknowledged.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{Actor, AdapterKind, ExchangeAccountRepo},
    AccountFuture, AccountView, Candle, ExchangeClient, ExchangeError, FuturesMarkedFuture,
    FuturesPosition, Market, OrderAck, OrderRequest, SpotBalance, SpotValuedFuture, Symbol,
    TenantId, TextEnum,
};
use moka::sync::Cache;
use rust_decimal::Decimal;

use crate::alerts::AlertRules;

/// How long after alerting a tenant's failing account its next failure is not looked at.
pub const RECHECK_AFTER: Duration = Duration::from_secs(60);

/// Whether an error says something about the account (rather than the request).
pub fn is_account_failure(error: &ExchangeError) -> bool {
    matches!(
        error,
        ExchangeError::Auth(_) | ExchangeError::Unavailable(_) | ExchangeError::RateLimited { .. }
    )
}

/// [`ExchangeClient`] raising an alert when a tenant's live account fails.
pub struct AlertingExchange {
    inner: Arc<dyn ExchangeClient>,
    accounts: Arc<dyn ExchangeAccountRepo>,
    rules: AlertRules,
    recently: Cache<TenantId, ()>,
}

impl std::fmt::Debug for AlertingExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertingExchange").finish_non_exhaustive()
    }
}

impl AlertingExchange {
    /// The rule in front of `inner`; `accounts` names the failing account.
    pub fn new(
        inner: Arc<dyn ExchangeClient>,
        accounts: Arc<dyn ExchangeAccountRepo>,
        rules: AlertRules,
    ) -> Self {
        Self {
            inner,
            accounts,
            rules,
            recently: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RECHECK_AFTER)
                .build(),
        }
    }

    fn watch<T>(
        &self,
        actor: &Actor,
        result: Result<T, ExchangeError>,
    ) -> Result<T, ExchangeError> {
        if let Err(error) = &result {
            if is_account_failure(error) && !self.recently.contains_key(&actor.tenant_id) {
                self.recently.insert(actor.tenant_id, ());
                self.alert(actor, error);
            }
        }
        result
    }

    fn alert(&self, actor: &Actor, error: &ExchangeError) {
        let system = Actor::system(actor.tenant_id);
        match self.accounts.active(&system) {
            Ok(Some(account)) if account.adapter != AdapterKind::Paper => {
                self.rules
                    .exchange_failing(&system, account.id, account.adapter.as_str(), error);
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(tenant_id = %actor.tenant_id, error = %err, "failing exchange account not looked up");
            }
        }
    }
}

impl ExchangeClient for AlertingExchange {
    fn spot_balances(&self, actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
        self.watch(actor, self.inner.spot_balances(actor))
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
        self.watch(actor, self.inner.futures_positions(actor))
    }

    fn prices(
        &self,
        actor: &Actor,
        market: Market,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        self.watch(actor, self.inner.prices(actor, market, symbols))
    }

    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.watch(actor, self.inner.daily_candles(actor, symbol, limit))
    }

    fn place_order(&self, actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        self.watch(actor, self.inner.place_order(actor, order))
    }

    fn cash(&self, actor: &Actor) -> Result<Decimal, ExchangeError> {
        self.watch(actor, self.inner.cash(actor))
    }

    // The inner client's one-transaction read, not the trait's default of three calls.
    fn account_view(&self, actor: &Actor) -> Result<AccountView, ExchangeError> {
        self.watch(actor, self.inner.account_view(actor))
    }

    fn spot_valued(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, ExchangeError> {
        self.watch(actor, self.inner.spot_valued(actor))
    }

    /// Passed through unwatched: the inner clients answer it only for paper accounts, whose
    /// failures this rule never alerts on (see `alert`).
    fn spot_valued_nonblocking(&self, actor: &Actor) -> Option<SpotValuedFuture> {
        self.inner.spot_valued_nonblocking(actor)
    }

    /// Passed through unwatched, as [`ExchangeClient::spot_valued_nonblocking`].
    fn account_view_nonblocking(&self, actor: &Actor) -> Option<AccountFuture> {
        self.inner.account_view_nonblocking(actor)
    }

    /// Passed through unwatched, as [`ExchangeClient::spot_valued_nonblocking`].
    fn futures_marked_nonblocking(&self, actor: &Actor) -> Option<FuturesMarkedFuture> {
        self.inner.futures_marked_nonblocking(actor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::{
        exchange::MockExchangeClient,
        ports::{AlertSource, ExchangeAccount, MockAlertRepo, MockExchangeAccountRepo},
    };
    use uuid::Uuid;

    use super::*;

    fn account(adapter: AdapterKind, id: Uuid) -> ExchangeAccount {
        ExchangeAccount {
            id,
            adapter,
            label: "main".into(),
            credentials_encrypted: None,
            testnet: false,
            previous_credentials_encrypted: None,
            previous_valid_until: None,
            paper_cash: Decimal::ZERO,
            fee_rate: Decimal::ZERO,
            created_at: chrono::Utc::now(),
        }
    }

    fn failing(times: usize, error: ExchangeError) -> MockExchangeClient {
        let mut inner = MockExchangeClient::new();
        inner
            .expect_futures_positions()
            .times(times)
            .returning(move |_| Err(error.clone()));
        inner
    }

    #[test]
    fn a_failing_live_account_raises_one_alert_per_account() {
        let id = Uuid::new_v4();
        let mut accounts = MockExchangeAccountRepo::new();
        accounts
            .expect_active()
            .times(1)
            .returning(move |_| Ok(Some(account(AdapterKind::Binance, id))));
        let mut alerts = MockAlertRepo::new();
        alerts
            .expect_raise()
            .withf(move |_, a| {
                a.source == AlertSource::Exchange && a.dedup_key == format!("exchange_account:{id}")
            })
            .times(1)
            .returning(|_, _| Ok(None));
        let exchange = AlertingExchange::new(
            Arc::new(failing(3, ExchangeError::Auth("refused".into()))),
            Arc::new(accounts),
            AlertRules::new(Arc::new(alerts)),
        );
        let actor = Actor::system(TenantId::new_random());
        for _ in 0..3 {
            assert!(matches!(
                exchange.futures_positions(&actor),
                Err(ExchangeError::Auth(_))
            ));
        }
    }

    #[test]
    fn request_errors_and_paper_accounts_raise_nothing() {
        let mut accounts = MockExchangeAccountRepo::new();
        accounts
            .expect_active()
            .times(1)
            .returning(|_| Ok(Some(account(AdapterKind::Paper, Uuid::nil()))));
        let exchange = AlertingExchange::new(
            Arc::new(failing(1, ExchangeError::Unavailable("db".into()))),
            Arc::new(accounts),
            AlertRules::new(Arc::new(MockAlertRepo::new())),
        );
        let actor = Actor::system(TenantId::new_random());
        assert!(exchange.futures_positions(&actor).is_err());
        let mut inner = MockExchangeClient::new();
        inner
            .expect_place_order()
            .returning(|_, _| Err(ExchangeError::NoPrice("XUSDT".into())));
        let exchange = AlertingExchange::new(
            Arc::new(inner),
            Arc::new(MockExchangeAccountRepo::new()),
            AlertRules::new(Arc::new(MockAlertRepo::new())),
        );
        let order = OrderRequest {
            client_order_id: "c1".into(),
            symbol: Symbol::parse("XUSDT").unwrap(),
            market: Market::Spot,
            side: alphapulse_domain::Side::Buy,
            quantity: Decimal::ONE,
            reduce_only: false,
        };
        assert!(exchange.place_order(&actor, &order).is_err());
    }
}
