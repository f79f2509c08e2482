use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Actor, BoxFuture};
use crate::{AccountView, FuturesPosition, Market, OrderAck, OrderRequest, RepoError, SpotBalance};

/// [`PaperBook::spot_holdings_priced_nonblocking`]'s answer.
pub type PricedHoldingsFuture = BoxFuture<'static, Result<crate::PricedHoldings, RepoError>>;

/// [`PaperBook::futures_positions_marked_nonblocking`]'s answer.
pub type MarkedPositionsFuture = BoxFuture<'static, Result<Vec<FuturesPosition>, RepoError>>;

/// [`PaperBook::account_view_nonblocking`]'s answer.
pub type AccountViewFuture = BoxFuture<'static, Result<AccountView, RepoError>>;

/// The paper exchange's ledger: positions, orders and trades in the tenant's tables.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PaperBook: Send + Sync {
    /// Spot holdings (quantity > 0) with their average price.
    fn spot_holdings(&self, actor: &Actor) -> Result<Vec<SpotBalance>, RepoError>;

    /// Spot holdings with the latest stored close of each, in one query (the hot path of
    /// `GET /api/v1/positions/spot`).
    fn spot_holdings_priced(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, RepoError>;

    /// [`PaperBook::spot_holdings_priced`] without blocking a thread, when this book can serve
    /// it so (an async connection on the request path); `None`: call the blocking method on a
    /// blocking thread.
    fn spot_holdings_priced_nonblocking(&self, _actor: &Actor) -> Option<PricedHoldingsFuture> {
        None
    }

    /// Open futures positions (quantity > 0).
    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, RepoError>;

    /// Open futures positions marked at the latest stored close of each symbol (`None`
    /// without one: the paper exchange's marks), in one query, without blocking a thread,
    /// when this book can serve it so (see
    /// [`PaperBook::spot_holdings_priced_nonblocking`]); `None`: read
    /// [`PaperBook::futures_positions`] and the closes on a blocking thread.
    fn futures_positions_marked_nonblocking(
        &self,
        _actor: &Actor,
    ) -> Option<MarkedPositionsFuture> {
        None
    }

    /// Everything the account holds in one read (one transaction): spot holdings priced at
    /// the latest closes, futures positions marked at the latest closes, and the active
    /// account's cash (zero without an account).
    fn account_view(&self, actor: &Actor) -> Result<AccountView, RepoError>;

    /// [`PaperBook::account_view`] without blocking a thread, when this book can serve it so
    /// (see [`PaperBook::spot_holdings_priced_nonblocking`]); `None`: call the blocking
    /// method on a blocking thread.
    fn account_view_nonblocking(&self, _actor: &Actor) -> Option<AccountViewFuture> {
        None
    }

    /// Fills a market order at `price` with `fee_rate`: the order, its trade and the position
    /// change are written in ONE transaction (all or nothing). A retry with the same
    /// `client_order_id` returns the first fill and writes nothing.
    fn fill(
        &self,
        actor: &Actor,
        order: &OrderRequest,
        price: Decimal,
        fee_rate: Decimal,
        at: DateTime<Utc>,
    ) -> Result<OrderAck, RepoError>;

    /// Sets a position directly (demo data and tests): quantity 0 removes it.
    fn set_position(
        &self,
        actor: &Actor,
        market: Market,
        position: &FuturesPosition,
    ) -> Result<(), RepoError>;
}
