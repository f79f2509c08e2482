//! The paper exchange, the default venue: balances and positions are the tenant's rows in the
//! database (through the [`PaperBook`] port, always tenant-scoped), prices are the latest
//! stored closes, and market orders fill at once at that price with the account's fee rate.

use std::{collections::BTreeMap, sync::Arc};

use alphapulse_domain::{
    ports::{Actor, ExchangeAccountRepo, MarketDataRepo, PaperBook},
    AccountFuture, AccountView, Candle, ExchangeClient, ExchangeError, FuturesMarkedFuture,
    FuturesPosition, Market, OrderAck, OrderRequest, RepoError, SpotBalance, SpotValuedFuture,
    Symbol,
};
use rust_decimal::Decimal;

/// Maps storage failures to exchange failures (the API answers 503 "Failed to fetch ...").
pub fn from_repo(err: RepoError) -> ExchangeError {
    match err {
        RepoError::Conflict(message) => ExchangeError::Rejected {
            code: -2010,
            message,
        },
        RepoError::Invalid(v) => ExchangeError::Rejected {
            code: -1013,
            message: v.to_string(),
        },
        RepoError::NotFound(_) => ExchangeError::NoAccount,
        other => ExchangeError::Unavailable(other.to_string()),
    }
}

/// The database-backed paper exchange.
#[derive(Clone)]
pub struct PaperExchange {
    book: Arc<dyn PaperBook>,
    market: Arc<dyn MarketDataRepo>,
    accounts: Arc<dyn ExchangeAccountRepo>,
}

impl std::fmt::Debug for PaperExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperExchange").finish_non_exhaustive()
    }
}

impl PaperExchange {
    /// A paper exchange over the ledger, the market data and the accounts.
    pub fn new(
        book: Arc<dyn PaperBook>,
        market: Arc<dyn MarketDataRepo>,
        accounts: Arc<dyn ExchangeAccountRepo>,
    ) -> Self {
        Self {
            book,
            market,
            accounts,
        }
    }
}

impl ExchangeClient for PaperExchange {
    fn spot_balances(&self, actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
        self.book.spot_holdings(actor).map_err(from_repo)
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
        self.book.futures_positions(actor).map_err(from_repo)
    }

    fn spot_valued(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, ExchangeError> {
        self.book.spot_holdings_priced(actor).map_err(from_repo)
    }

    fn spot_valued_nonblocking(&self, actor: &Actor) -> Option<SpotValuedFuture> {
        let read = self.book.spot_holdings_priced_nonblocking(actor)?;
        Some(Box::pin(async move { read.await.map_err(from_repo) }))
    }

    fn account_view_nonblocking(&self, actor: &Actor) -> Option<AccountFuture> {
        let read = self.book.account_view_nonblocking(actor)?;
        Some(Box::pin(async move { read.await.map_err(from_repo) }))
    }

    /// Marked at the latest closes, as [`PaperExchange::prices`] would mark them.
    fn futures_marked_nonblocking(&self, actor: &Actor) -> Option<FuturesMarkedFuture> {
        let read = self.book.futures_positions_marked_nonblocking(actor)?;
        Some(Box::pin(async move { read.await.map_err(from_repo) }))
    }

    fn prices(
        &self,
        actor: &Actor,
        _market: Market,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        // Paper futures mark at the spot close: one price source, no basis.
        self.market.latest_closes(actor, symbols).map_err(from_repo)
    }

    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.market
            .daily_candles(actor, symbol, limit)
            .map_err(from_repo)
    }

    /// One transaction: holdings and futures at the latest closes, and the account's cash.
    fn account_view(&self, actor: &Actor) -> Result<AccountView, ExchangeError> {
        self.book.account_view(actor).map_err(from_repo)
    }

    /// The active paper account's cash; zero without an account.
    fn cash(&self, actor: &Actor) -> Result<Decimal, ExchangeError> {
        Ok(self
            .accounts
            .active(actor)
            .map_err(from_repo)?
            .map_or(Decimal::ZERO, |a| a.paper_cash))
    }

    fn place_order(&self, actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        let account = self
            .accounts
            .active(actor)
            .map_err(from_repo)?
            .ok_or(ExchangeError::NoAccount)?;
        let price = *self
            .market
            .latest_closes(actor, std::slice::from_ref(&order.symbol))
            .map_err(from_repo)?
            .get(&order.symbol)
            .ok_or_else(|| ExchangeError::NoPrice(order.symbol.to_string()))?;
        self.book
            .fill(actor, order, price, account.fee_rate, chrono::Utc::now())
            .map_err(from_repo)
    }
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::{
        ports::{MockExchangeAccountRepo, MockMarketDataRepo, MockPaperBook},
        Side, TenantId,
    };

    use super::*;

    #[test]
    fn orders_fill_at_the_latest_close_with_the_account_fee() {
        let mut book = MockPaperBook::new();
        book.expect_fill()
            .withf(|_, _, price, fee, _| {
                *price == Decimal::new(42, 0) && *fee == Decimal::new(1, 3)
            })
            .returning(|_, o, price, _, at| {
                Ok(OrderAck {
                    client_order_id: o.client_order_id.clone(),
                    exchange_order_id: "1".into(),
                    status: "filled".into(),
                    filled_quantity: o.quantity,
                    avg_price: Some(price),
                    fee: Decimal::ZERO,
                    created_at: at,
                })
            });
        let mut market = MockMarketDataRepo::new();
        market
            .expect_latest_closes()
            .returning(|_, s| Ok(BTreeMap::from([(s[0].clone(), Decimal::new(42, 0))])));
        let mut accounts = MockExchangeAccountRepo::new();
        accounts.expect_active().returning(|_| {
            Ok(Some(alphapulse_domain::ports::ExchangeAccount {
                id: uuid::Uuid::nil(),
                adapter: alphapulse_domain::ports::AdapterKind::Paper,
                label: "p".into(),
                credentials_encrypted: None,
                testnet: false,
                previous_credentials_encrypted: None,
                previous_valid_until: None,
                paper_cash: Decimal::ONE,
                fee_rate: Decimal::new(1, 3),
                created_at: chrono::Utc::now(),
            }))
        });
        let ex = PaperExchange::new(Arc::new(book), Arc::new(market), Arc::new(accounts));
        let order = OrderRequest {
            client_order_id: "c1".into(),
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            market: Market::Spot,
            side: Side::Buy,
            quantity: Decimal::ONE,
            reduce_only: false,
        };
        let ack = ex
            .place_order(&Actor::system(TenantId::new_random()), &order)
            .unwrap();
        assert_eq!(ack.avg_price, Some(Decimal::new(42, 0)));
    }

    fn account(cash: Decimal) -> alphapulse_domain::ports::ExchangeAccount {
        alphapulse_domain::ports::ExchangeAccount {
            id: uuid::Uuid::nil(),
            adapter: alphapulse_domain::ports::AdapterKind::Paper,
            label: "p".into(),
            credentials_encrypted: None,
            testnet: false,
            previous_credentials_encrypted: None,
            previous_valid_until: None,
            paper_cash: cash,
            fee_rate: Decimal::new(1, 3),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn cash_is_the_active_paper_accounts_or_zero_without_one() {
        let mut accounts = MockExchangeAccountRepo::new();
        let mut calls = 0;
        accounts.expect_active().times(2).returning(move |_| {
            calls += 1;
            Ok((calls == 1).then(|| account(Decimal::new(12_345, 2))))
        });
        let ex = PaperExchange::new(
            Arc::new(MockPaperBook::new()),
            Arc::new(MockMarketDataRepo::new()),
            Arc::new(accounts),
        );
        let actor = Actor::system(TenantId::new_random());
        assert_eq!(ex.cash(&actor).unwrap(), Decimal::new(12_345, 2));
        assert_eq!(ex.cash(&actor).unwrap(), Decimal::ZERO);
    }

    #[test]
    fn storage_failures_become_exchange_failures() {
        assert_eq!(
            from_repo(RepoError::NotFound("exchange account")),
            ExchangeError::NoAccount
        );
        assert!(matches!(
            from_repo(RepoError::Conflict("x".into())),
            ExchangeError::Rejected { code: -2010, .. }
        ));
        assert!(matches!(
            from_repo(RepoError::Unavailable("down".into())),
            ExchangeError::Unavailable(_)
        ));
    }
}
