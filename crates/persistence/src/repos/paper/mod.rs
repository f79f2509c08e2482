//! The paper exchange's ledger in the tenant's own tables: `orders`, `trades`, `positions`
//! and the account's cash, changed together in one transaction per fill.
//!
//! Spot positions are one `long` row per symbol with the average acquisition price. Futures
//! positions are net: one row per symbol whose side is the sign of the net quantity; a fill
//! against the position reduces it (realising PnL at the entry price) and one that crosses
//! zero opens the remainder at the fill price.

use alphapulse_domain::{
    ports::{AccountViewFuture, Actor, MarkedPositionsFuture, PaperBook, PricedHoldingsFuture},
    AccountView, FuturesPosition, Market, OrderAck, OrderRequest, RepoError, SpotBalance, Symbol,
    TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;

use crate::{error::Result, schema::positions, AsyncReads, Db, Error};

/// The quote asset every symbol is priced in.
pub const QUOTE: &str = "USDT";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = positions, check_for_backend(diesel::pg::Pg))]
struct PositionRow {
    symbol: String,
    side: String,
    quantity: Decimal,
    entry_price: Decimal,
    leverage: Decimal,
}

fn symbol_of(text: &str) -> Result<Symbol> {
    Symbol::parse(text).map_err(|e| Error::Corrupt {
        table: "positions",
        message: e.to_string(),
    })
}

fn load(conn: &mut PgConnection, actor: &Actor, market: Market) -> Result<Vec<PositionRow>> {
    Ok(positions::table
        .filter(positions::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(positions::market.eq(market.as_str()))
        .filter(positions::quantity.gt(Decimal::ZERO))
        .order(positions::symbol)
        .select(PositionRow::as_select())
        .load(conn)?)
}

mod fill;
mod holdings;

pub use fill::{fill, set_position};
pub use holdings::{
    account_view, account_view_async, futures_positions, futures_positions_marked,
    futures_positions_marked_async, spot_holdings, spot_holdings_priced,
    spot_holdings_priced_async,
};

/// [`PaperBook`] over PostgreSQL: every call in the tenant's scope.
#[derive(Debug, Clone)]
pub struct PgPaperBook {
    db: Db,
    reads: Option<AsyncReads>,
}

impl PgPaperBook {
    /// A book over `db`.
    pub fn new(db: Db) -> Self {
        Self { db, reads: None }
    }

    /// Serves the hot read ([`PaperBook::spot_holdings_priced_nonblocking`]) over `reads`.
    pub fn with_async_reads(mut self, reads: AsyncReads) -> Self {
        self.reads = Some(reads);
        self
    }
}

impl PaperBook for PgPaperBook {
    fn spot_holdings_priced(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| spot_holdings_priced(c, actor))?)
    }

    fn spot_holdings_priced_nonblocking(&self, actor: &Actor) -> Option<PricedHoldingsFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(async move {
            Ok(spot_holdings_priced_async(&reads, &actor).await?)
        }))
    }

    fn spot_holdings(&self, actor: &Actor) -> Result<Vec<SpotBalance>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| spot_holdings(c, actor))?)
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| futures_positions(c, actor))?)
    }

    fn futures_positions_marked_nonblocking(&self, actor: &Actor) -> Option<MarkedPositionsFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(async move {
            Ok(futures_positions_marked_async(&reads, &actor).await?)
        }))
    }

    fn account_view_nonblocking(&self, actor: &Actor) -> Option<AccountViewFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(async move {
            Ok(account_view_async(&reads, &actor).await?)
        }))
    }

    fn account_view(&self, actor: &Actor) -> Result<AccountView, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| account_view(c, actor))?)
    }

    fn fill(
        &self,
        actor: &Actor,
        order: &OrderRequest,
        price: Decimal,
        fee_rate: Decimal,
        at: DateTime<Utc>,
    ) -> Result<OrderAck, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| fill(c, actor, order, price, fee_rate, at))?)
    }

    fn set_position(
        &self,
        actor: &Actor,
        market: Market,
        position: &FuturesPosition,
    ) -> Result<(), RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| set_position(c, actor, market, position))?)
    }
}
