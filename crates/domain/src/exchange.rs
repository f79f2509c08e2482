//! What the services need from an exchange account: balances, positions, prices, candles and
//! orders. Implemented by the paper exchange (the default, backed by the database) and by the
//! Binance adapters.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    ports::{Actor, BoxFuture},
    Candle, Symbol,
};

/// Spot or USD-M futures.
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
pub enum Market {
    /// Spot wallet.
    Spot,
    /// USD-margined perpetual futures.
    Futures,
}

impl crate::TextEnum for Market {
    const FIELD: &'static str = "market";
}

/// Order side.
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
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl crate::TextEnum for Side {
    const FIELD: &'static str = "side";
}

/// Direction of a futures position.
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
pub enum PositionSide {
    /// Long.
    Long,
    /// Short.
    Short,
}

impl crate::TextEnum for PositionSide {
    const FIELD: &'static str = "side";
}

/// A spot holding: quantity of one asset, valued against the quote asset (`USDT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotBalance {
    /// The trading pair the asset is valued through, e.g. `BTCUSDT` for `BTC`.
    pub symbol: Symbol,
    /// The asset, e.g. `BTC`.
    pub asset: String,
    /// Free plus locked quantity.
    pub quantity: Decimal,
    /// Average acquisition price, when the venue knows it.
    pub avg_price: Option<Decimal>,
}

/// An open futures position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FuturesPosition {
    /// Contract symbol, e.g. `BTCUSDT`.
    pub symbol: Symbol,
    /// Long or short.
    pub side: PositionSide,
    /// Absolute size in base units.
    pub quantity: Decimal,
    /// Average entry price.
    pub entry_price: Decimal,
    /// Current mark price, when the venue reports it with the position.
    pub mark_price: Option<Decimal>,
    /// Leverage.
    pub leverage: Decimal,
    /// Liquidation price, when known.
    pub liquidation_price: Option<Decimal>,
}

/// An order to place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Caller-chosen id, unique per tenant: retries with the same id never double-place.
    pub client_order_id: String,
    /// Instrument.
    pub symbol: Symbol,
    /// Spot or futures.
    pub market: Market,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity.
    pub quantity: Decimal,
    /// Futures only: may only reduce a position.
    pub reduce_only: bool,
}

/// The venue's answer to an order (market orders fill at once on the paper exchange).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAck {
    /// The caller's id.
    pub client_order_id: String,
    /// The venue's id.
    pub exchange_order_id: String,
    /// `filled`, `new`, `partially_filled`, `rejected`, ...
    pub status: String,
    /// Quantity filled so far.
    pub filled_quantity: Decimal,
    /// Average fill price, when filled.
    pub avg_price: Option<Decimal>,
    /// Fee paid, in the quote asset.
    pub fee: Decimal,
    /// When the venue accepted it.
    pub created_at: DateTime<Utc>,
}

/// Exchange failures, typed so callers can retry, back off or report.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The venue could not be reached or answered 5xx.
    #[error("exchange unavailable: {0}")]
    Unavailable(String),
    /// HTTP 429/418: back off for this many seconds.
    #[error("rate limited by the exchange; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Bad or missing credentials, signature or timestamp.
    #[error("exchange rejected the credentials: {0}")]
    Auth(String),
    /// The venue refused the order (insufficient balance, bad quantity, ...).
    #[error("order rejected (code {code}): {message}")]
    Rejected {
        /// The venue's error code.
        code: i64,
        /// The venue's message.
        message: String,
    },
    /// No price is known for a symbol.
    #[error("no price for {0}")]
    NoPrice(String),
    /// The tenant has no exchange account configured.
    #[error("no exchange account configured")]
    NoAccount,
    /// Anything else.
    #[error("exchange error: {0}")]
    Other(String),
}

/// What a tenant's account holds now, read together: spot holdings with their latest price,
/// futures positions (with their mark price when known), and quote-asset cash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    /// Spot holdings and their latest spot price (`None` when unknown).
    pub spot: Vec<(SpotBalance, Option<Decimal>)>,
    /// Open futures positions.
    pub futures: Vec<FuturesPosition>,
    /// Quote-asset cash (see [`ExchangeClient::cash`]).
    pub cash: Decimal,
}

/// Spot holdings with their latest price, if any.
pub type PricedHoldings = Vec<(SpotBalance, Option<Decimal>)>;

/// [`ExchangeClient::spot_valued_nonblocking`]'s answer.
pub type SpotValuedFuture = BoxFuture<'static, Result<PricedHoldings, ExchangeError>>;

/// [`ExchangeClient::futures_marked_nonblocking`]'s answer.
pub type FuturesMarkedFuture = BoxFuture<'static, Result<Vec<FuturesPosition>, ExchangeError>>;

/// [`ExchangeClient::account_view_nonblocking`]'s answer.
pub type AccountFuture = BoxFuture<'static, Result<AccountView, ExchangeError>>;

/// A tenant's exchange account. Every call is for one tenant ([`Actor`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ExchangeClient: Send + Sync {
    /// Spot holdings with a non-zero quantity (the quote asset itself excluded).
    fn spot_balances(&self, actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError>;

    /// Open futures positions.
    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError>;

    /// Latest prices (spot last price, or futures mark price) of `symbols`.
    fn prices(
        &self,
        actor: &Actor,
        market: Market,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError>;

    /// The most recent `limit` daily candles of `symbol`, oldest first.
    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, ExchangeError>;

    /// Places a market order.
    fn place_order(&self, actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError>;

    /// The account's cash in the quote asset (`USDT`): the paper account's cash, or on a live
    /// venue the quote-asset balance (free + locked) of the spot wallet plus the futures
    /// wallet balance (margin included, unrealised PnL excluded). Zero without an account.
    fn cash(&self, actor: &Actor) -> Result<Decimal, ExchangeError>;

    /// Holdings, positions and cash at once. The default asks [`ExchangeClient::spot_valued`],
    /// [`ExchangeClient::futures_positions`] and [`ExchangeClient::cash`]; the paper exchange
    /// answers in one database transaction (and marks its futures at the latest closes).
    fn account_view(&self, actor: &Actor) -> Result<AccountView, ExchangeError> {
        Ok(AccountView {
            spot: self.spot_valued(actor)?,
            futures: self.futures_positions(actor)?,
            cash: self.cash(actor)?,
        })
    }

    /// [`ExchangeClient::spot_valued`] without blocking a thread, when the client can serve it
    /// so right now (the paper exchange over an async connection, for a tenant whose account
    /// is already known); `None`: call [`ExchangeClient::spot_valued`] on a blocking thread.
    /// The request path's cheapest read (issue 16): the positions route tries this first.
    fn spot_valued_nonblocking(&self, _actor: &Actor) -> Option<SpotValuedFuture> {
        None
    }

    /// [`ExchangeClient::account_view`] without blocking a thread, when the client can serve
    /// it so right now (as [`ExchangeClient::spot_valued_nonblocking`]); `None`: call
    /// [`ExchangeClient::account_view`] on a blocking thread.
    fn account_view_nonblocking(&self, _actor: &Actor) -> Option<AccountFuture> {
        None
    }

    /// Open futures positions with their mark price where the venue knows it (`None`: ask
    /// [`ExchangeClient::prices`]), without blocking a thread, when the client can serve them
    /// so right now (as [`ExchangeClient::spot_valued_nonblocking`]); `None`: call
    /// [`ExchangeClient::futures_positions`] on a blocking thread.
    fn futures_marked_nonblocking(&self, _actor: &Actor) -> Option<FuturesMarkedFuture> {
        None
    }

    /// Spot holdings with their latest spot price (`None` when the venue has none). The
    /// default asks [`ExchangeClient::spot_balances`] then [`ExchangeClient::prices`];
    /// adapters that can answer both at once (the paper exchange: one query) override it.
    fn spot_valued(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, ExchangeError> {
        let balances = self.spot_balances(actor)?;
        if balances.is_empty() {
            return Ok(Vec::new());
        }
        let symbols: Vec<Symbol> = balances.iter().map(|b| b.symbol.clone()).collect();
        let prices = self.prices(actor, Market::Spot, &symbols)?;
        Ok(balances
            .into_iter()
            .map(|b| {
                let price = prices.get(&b.symbol).copied();
                (b, price)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;

    /// A venue that knows balances and prices separately: the default `spot_valued` joins them.
    struct TwoCalls;

    impl ExchangeClient for TwoCalls {
        fn spot_balances(&self, _: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
            Ok(["BTCUSDT", "XRPUSDT"]
                .iter()
                .map(|s| SpotBalance {
                    symbol: Symbol::parse(s).unwrap(),
                    asset: s.trim_end_matches("USDT").into(),
                    quantity: Decimal::ONE,
                    avg_price: None,
                })
                .collect())
        }
        fn futures_positions(&self, _: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
            Ok(vec![])
        }
        fn prices(
            &self,
            _: &Actor,
            market: Market,
            symbols: &[Symbol],
        ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
            assert_eq!((market, symbols.len()), (Market::Spot, 2));
            Ok(BTreeMap::from([(
                Symbol::parse("BTCUSDT").unwrap(),
                Decimal::TEN,
            )]))
        }
        fn daily_candles(
            &self,
            _: &Actor,
            _: &Symbol,
            _: u32,
        ) -> Result<Vec<Candle>, ExchangeError> {
            Ok(vec![])
        }
        fn place_order(&self, _: &Actor, _: &OrderRequest) -> Result<OrderAck, ExchangeError> {
            Err(ExchangeError::Other("not used".into()))
        }
        fn cash(&self, _: &Actor) -> Result<Decimal, ExchangeError> {
            Ok(Decimal::ZERO)
        }
    }

    #[test]
    fn the_default_account_view_reads_holdings_positions_and_cash() {
        let view = TwoCalls
            .account_view(&Actor::system(TenantId::new_random()))
            .unwrap();
        assert_eq!((view.spot.len(), view.futures.len()), (2, 0));
        assert_eq!(view.cash, Decimal::ZERO);
    }

    #[test]
    fn default_spot_valued_joins_balances_and_prices() {
        let valued = TwoCalls
            .spot_valued(&Actor::system(TenantId::new_random()))
            .unwrap();
        assert_eq!(valued[0].1, Some(Decimal::TEN));
        assert_eq!(valued[1].1, None, "no price known for XRP");
    }
}
