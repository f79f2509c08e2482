//! Positions valued at current prices.

use std::{collections::BTreeMap, future::Future, sync::Arc};

use alphapulse_domain::{
    ports::Actor, ExchangeClient, ExchangeError, FuturesPosition, Market, PositionSide,
    SpotBalance, Symbol,
};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::metrics::{metrics, PositionMetrics};

/// Maintenance margin rate used to estimate a liquidation price when the venue gives none
/// (Binance's lowest USD-M tier is 0.4 %).
pub const MAINTENANCE_MARGIN_RATE: Decimal = Decimal::from_parts(4, 0, 0, false, 3);

/// A spot holding valued at the current price (`GET /api/v1/positions/spot`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpotPosition {
    /// Pair, e.g. `BTCUSDT`.
    pub symbol: Symbol,
    /// Quantity held.
    #[serde(with = "alphapulse_domain::decimal")]
    pub quantity: Decimal,
    /// Average acquisition price (the current price when the venue does not know it).
    #[serde(with = "alphapulse_domain::decimal")]
    pub avg_price: Decimal,
    /// Latest price.
    #[serde(with = "alphapulse_domain::decimal")]
    pub current_price: Decimal,
    /// `quantity * current_price`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub value: Decimal,
    /// `(current_price - avg_price) * quantity`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub unrealized_pnl: Decimal,
}

/// A futures position valued at the mark price (`GET /api/v1/positions/futures`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FuturesPositionView {
    /// Contract.
    pub symbol: Symbol,
    /// `long` or `short`.
    pub side: PositionSide,
    /// Absolute size.
    #[serde(with = "alphapulse_domain::decimal")]
    pub quantity: Decimal,
    /// Entry price.
    #[serde(with = "alphapulse_domain::decimal")]
    pub entry_price: Decimal,
    /// Mark price.
    #[serde(with = "alphapulse_domain::decimal")]
    pub mark_price: Decimal,
    /// Leverage.
    #[serde(with = "alphapulse_domain::decimal")]
    pub leverage: Decimal,
    /// `quantity * mark_price`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub notional: Decimal,
    /// Mark-to-market PnL, sign by side.
    #[serde(with = "alphapulse_domain::decimal")]
    pub unrealized_pnl: Decimal,
    /// The venue's liquidation price, or an isolated-margin estimate.
    #[serde(with = "alphapulse_domain::decimal::option")]
    pub liquidation_price: Option<Decimal>,
}

/// Spot and futures positions valued together ([`PositionService::both_nonblocking`]).
pub type Valued = (Vec<SpotPosition>, Vec<FuturesPositionView>);

/// Fetches and values a tenant's positions through its exchange client.
#[derive(Clone)]
pub struct PositionService {
    exchange: Arc<dyn ExchangeClient>,
}

impl std::fmt::Debug for PositionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PositionService").finish_non_exhaustive()
    }
}

/// Isolated-margin liquidation estimate: where the loss eats the initial margin down to the
/// maintenance margin.
pub fn estimate_liquidation(
    side: PositionSide,
    entry: Decimal,
    leverage: Decimal,
) -> Option<Decimal> {
    if leverage <= Decimal::ONE || entry <= Decimal::ZERO {
        return None; // unlevered: no liquidation
    }
    let margin = Decimal::ONE / leverage;
    let price = match side {
        PositionSide::Long => entry * (Decimal::ONE - margin + MAINTENANCE_MARGIN_RATE),
        PositionSide::Short => entry * (Decimal::ONE + margin - MAINTENANCE_MARGIN_RATE),
    };
    Some(price.round_dp(8))
}

/// Values holdings at their prices, largest value first; a holding without a price fails.
fn value_spot(
    valued: Vec<(SpotBalance, Option<Decimal>)>,
) -> Result<Vec<SpotPosition>, ExchangeError> {
    let mut out = Vec::with_capacity(valued.len());
    for (b, price) in valued {
        let price = price.ok_or_else(|| ExchangeError::NoPrice(b.symbol.to_string()))?;
        let avg = b.avg_price.unwrap_or(price);
        out.push(SpotPosition {
            value: (b.quantity * price).round_dp(8),
            unrealized_pnl: ((price - avg) * b.quantity).round_dp(8),
            symbol: b.symbol,
            quantity: b.quantity,
            avg_price: avg.round_dp(8),
            current_price: price,
        });
    }
    out.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.symbol.cmp(&b.symbol)));
    Ok(out)
}

impl PositionService {
    /// A service over the tenant-routing exchange client.
    pub fn new(exchange: Arc<dyn ExchangeClient>) -> Self {
        Self { exchange }
    }

    /// Spot holdings valued at current prices, largest value first.
    ///
    /// # Errors
    /// The exchange's failure (the API answers 503 "Failed to fetch spot positions").
    pub fn spot(&self, actor: &Actor) -> Result<Vec<SpotPosition>, ExchangeError> {
        value_spot(self.exchange.spot_valued(actor)?)
    }

    /// [`PositionService::spot`] without blocking a thread, when the exchange client can
    /// answer so (see `ExchangeClient::spot_valued_nonblocking`); `None`: call
    /// [`PositionService::spot`] on a blocking thread.
    pub fn spot_nonblocking(
        &self,
        actor: &Actor,
    ) -> Option<impl Future<Output = Result<Vec<SpotPosition>, ExchangeError>> + Send + 'static>
    {
        let read = self.exchange.spot_valued_nonblocking(actor)?;
        Some(async move { value_spot(read.await?) })
    }

    /// Futures positions at mark prices, largest notional first.
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn futures(&self, actor: &Actor) -> Result<Vec<FuturesPositionView>, ExchangeError> {
        let positions = self.exchange.futures_positions(actor)?;
        let missing: Vec<Symbol> = positions
            .iter()
            .filter(|p| p.mark_price.is_none())
            .map(|p| p.symbol.clone())
            .collect();
        let marks = if missing.is_empty() {
            Default::default()
        } else {
            self.exchange.prices(actor, Market::Futures, &missing)?
        };
        value_futures(positions, &marks)
    }

    /// [`PositionService::futures`] without blocking a thread, when the exchange client can
    /// answer so with every mark (see `ExchangeClient::futures_marked_nonblocking`; a
    /// position it cannot mark fails as the blocking read would); `None`: call
    /// [`PositionService::futures`] on a blocking thread.
    pub fn futures_nonblocking(
        &self,
        actor: &Actor,
    ) -> Option<
        impl Future<Output = Result<Vec<FuturesPositionView>, ExchangeError>> + Send + 'static,
    > {
        let read = self.exchange.futures_marked_nonblocking(actor)?;
        Some(async move { value_futures(read.await?, &BTreeMap::new()) })
    }

    /// Exposure metrics over [`PositionService::spot`] and [`PositionService::futures`].
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn metrics(&self, actor: &Actor) -> Result<PositionMetrics, ExchangeError> {
        Ok(metrics(&self.spot(actor)?, &self.futures(actor)?))
    }

    /// [`PositionService::spot`] and [`PositionService::futures`] at once without blocking a
    /// thread, from one account view (one read of the exchange client: on the paper exchange
    /// one transaction, its futures marked at the latest closes), when the client can serve
    /// it so (see `ExchangeClient::account_view_nonblocking`); `None`: call both on a
    /// blocking thread.
    pub fn both_nonblocking(
        &self,
        actor: &Actor,
    ) -> Option<impl Future<Output = Result<Valued, ExchangeError>> + Send + 'static> {
        let read = self.exchange.account_view_nonblocking(actor)?;
        Some(async move {
            let view = read.await?;
            Ok((
                value_spot(view.spot)?,
                value_futures(view.futures, &BTreeMap::new())?,
            ))
        })
    }

    /// [`PositionService::metrics`] without blocking a thread, over
    /// [`PositionService::both_nonblocking`]; `None`: call [`PositionService::metrics`] on a
    /// blocking thread.
    pub fn metrics_nonblocking(
        &self,
        actor: &Actor,
    ) -> Option<impl Future<Output = Result<PositionMetrics, ExchangeError>> + Send + 'static> {
        let both = self.both_nonblocking(actor)?;
        Some(async move {
            let (spot, futures) = both.await?;
            Ok(metrics(&spot, &futures))
        })
    }
}

/// Values futures positions at their mark (the venue's, else `marks`), largest notional
/// first; a position without a mark fails.
fn value_futures(
    positions: Vec<FuturesPosition>,
    marks: &BTreeMap<Symbol, Decimal>,
) -> Result<Vec<FuturesPositionView>, ExchangeError> {
    let mut out = Vec::with_capacity(positions.len());
    for p in positions {
        let mark = match p.mark_price {
            Some(m) => m,
            None => *marks
                .get(&p.symbol)
                .ok_or_else(|| ExchangeError::NoPrice(p.symbol.to_string()))?,
        };
        let direction = match p.side {
            PositionSide::Long => Decimal::ONE,
            PositionSide::Short => Decimal::NEGATIVE_ONE,
        };
        out.push(FuturesPositionView {
            notional: (p.quantity * mark).round_dp(8),
            unrealized_pnl: ((mark - p.entry_price) * p.quantity * direction).round_dp(8),
            liquidation_price: p
                .liquidation_price
                .or_else(|| estimate_liquidation(p.side, p.entry_price, p.leverage)),
            symbol: p.symbol,
            side: p.side,
            quantity: p.quantity,
            entry_price: p.entry_price,
            mark_price: mark,
            leverage: p.leverage,
        });
    }
    out.sort_by(|a, b| {
        b.notional
            .cmp(&a.notional)
            .then_with(|| a.symbol.cmp(&b.symbol))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use alphapulse_domain::{exchange::MockExchangeClient, FuturesPosition, SpotBalance, TenantId};
    use rust_decimal_macros::dec;

    use futures_util::FutureExt as _;

    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    /// ETH 10 @ 2000 now 2500; BTC 0.5 without an average price, now 60000.
    fn two_holdings() -> alphapulse_domain::PricedHoldings {
        vec![
            (
                SpotBalance {
                    symbol: sym("ETHUSDT"),
                    asset: "ETH".into(),
                    quantity: dec!(10),
                    avg_price: Some(dec!(2000)),
                },
                Some(dec!(2500)),
            ),
            (
                SpotBalance {
                    symbol: sym("BTCUSDT"),
                    asset: "BTC".into(),
                    quantity: dec!(0.5),
                    avg_price: None,
                },
                Some(dec!(60000)),
            ),
        ]
    }

    #[test]
    fn spot_positions_are_valued_at_current_prices() {
        let mut ex = MockExchangeClient::new();
        ex.expect_spot_valued().returning(|_| Ok(two_holdings()));
        let service = PositionService::new(Arc::new(ex));
        let spot = service
            .spot(&Actor::system(TenantId::new_random()))
            .unwrap();
        assert_eq!(spot[0].symbol.as_str(), "BTCUSDT", "largest value first");
        assert_eq!(
            (spot[0].value, spot[0].unrealized_pnl),
            (dec!(30000), dec!(0))
        );
        assert_eq!(
            (spot[1].value, spot[1].unrealized_pnl),
            (dec!(25000), dec!(5000))
        );
    }

    /// The non-blocking read values exactly as the blocking one, and is offered only when
    /// the exchange client offers one.
    #[test]
    fn nonblocking_spot_values_like_the_blocking_read() {
        let mut ex = MockExchangeClient::new();
        ex.expect_spot_valued().returning(|_| Ok(two_holdings()));
        ex.expect_spot_valued_nonblocking()
            .returning(|_| Some(Box::pin(async { Ok(two_holdings()) })));
        let service = PositionService::new(Arc::new(ex));
        let actor = Actor::system(TenantId::new_random());
        let fast = service
            .spot_nonblocking(&actor)
            .expect("offered")
            .now_or_never()
            .expect("ready");
        assert_eq!(fast.unwrap(), service.spot(&actor).unwrap());

        let mut ex = MockExchangeClient::new();
        ex.expect_spot_valued_nonblocking().returning(|_| None);
        assert!(PositionService::new(Arc::new(ex))
            .spot_nonblocking(&actor)
            .is_none());
    }

    /// The non-blocking futures and metrics reads value exactly as the blocking ones (the
    /// exchange client marks the positions itself there), fail on a position without a
    /// mark as the blocking read does, and are offered only when every read they need is.
    #[test]
    fn nonblocking_futures_and_metrics_value_like_the_blocking_reads() {
        let short = |mark| FuturesPosition {
            symbol: sym("BTCUSDT"),
            side: PositionSide::Short,
            quantity: dec!(2),
            entry_price: dec!(50000),
            mark_price: mark,
            leverage: dec!(5),
            liquidation_price: None,
        };
        let mut ex = MockExchangeClient::new();
        ex.expect_spot_valued().returning(|_| Ok(two_holdings()));
        ex.expect_spot_valued_nonblocking()
            .returning(|_| Some(Box::pin(async { Ok(two_holdings()) })));
        ex.expect_futures_positions()
            .returning(move |_| Ok(vec![short(None)]));
        ex.expect_prices()
            .returning(|_, _, _| Ok(BTreeMap::from([(sym("BTCUSDT"), dec!(45000))])));
        ex.expect_futures_marked_nonblocking()
            .times(1)
            .returning(move |_| Some(Box::pin(async move { Ok(vec![short(Some(dec!(45000)))]) })));
        // Metrics read both from one account view (the paper exchange marks its futures).
        ex.expect_account_view_nonblocking().returning(move |_| {
            Some(Box::pin(async move {
                Ok(alphapulse_domain::AccountView {
                    spot: two_holdings(),
                    futures: vec![short(Some(dec!(45000)))],
                    cash: dec!(0),
                })
            }))
        });
        ex.expect_futures_marked_nonblocking()
            .returning(move |_| Some(Box::pin(async move { Ok(vec![short(None)]) })));
        let service = PositionService::new(Arc::new(ex));
        let actor = Actor::system(TenantId::new_random());
        let fast = service
            .futures_nonblocking(&actor)
            .expect("offered")
            .now_or_never()
            .expect("ready");
        let blocking = service.futures(&actor).unwrap();
        assert_eq!(blocking[0].unrealized_pnl, dec!(10000));
        assert_eq!(fast.unwrap(), blocking);
        let metrics = service
            .metrics_nonblocking(&actor)
            .expect("offered")
            .now_or_never()
            .expect("ready");
        assert_eq!(metrics.unwrap(), service.metrics(&actor).unwrap());
        let unmarked = service
            .futures_nonblocking(&actor)
            .expect("offered")
            .now_or_never()
            .expect("ready");
        assert!(matches!(unmarked, Err(ExchangeError::NoPrice(s)) if s == "BTCUSDT"));

        let mut ex = MockExchangeClient::new();
        ex.expect_spot_valued_nonblocking()
            .returning(|_| Some(Box::pin(async { Ok(two_holdings()) })));
        ex.expect_futures_marked_nonblocking().returning(|_| None);
        ex.expect_account_view_nonblocking().returning(|_| None);
        let service = PositionService::new(Arc::new(ex));
        assert!(service.futures_nonblocking(&actor).is_none());
        assert!(
            service.metrics_nonblocking(&actor).is_none(),
            "metrics need the account view"
        );
    }

    #[test]
    fn futures_pnl_has_the_sign_of_the_side_and_a_liquidation_estimate() {
        let mut ex = MockExchangeClient::new();
        ex.expect_futures_positions().returning(|_| {
            Ok(vec![FuturesPosition {
                symbol: sym("BTCUSDT"),
                side: PositionSide::Short,
                quantity: dec!(2),
                entry_price: dec!(50000),
                mark_price: None,
                leverage: dec!(5),
                liquidation_price: None,
            }])
        });
        ex.expect_prices()
            .returning(|_, _, _| Ok(BTreeMap::from([(sym("BTCUSDT"), dec!(45000))])));
        let service = PositionService::new(Arc::new(ex));
        let f = &service
            .futures(&Actor::system(TenantId::new_random()))
            .unwrap()[0];
        assert_eq!((f.notional, f.unrealized_pnl), (dec!(90000), dec!(10000)));
        // short at 5x: 50000 * (1 + 0.2 - 0.004)
        assert_eq!(f.liquidation_price, Some(dec!(59800)));
    }

    #[test]
    fn a_missing_price_and_an_exchange_failure_are_errors() {
        let mut ex = MockExchangeClient::new();
        ex.expect_spot_valued().returning(|_| {
            Ok(vec![(
                SpotBalance {
                    symbol: sym("XRPUSDT"),
                    asset: "XRP".into(),
                    quantity: dec!(1),
                    avg_price: None,
                },
                None,
            )])
        });
        ex.expect_futures_positions()
            .returning(|_| Err(ExchangeError::Unavailable("timeout".into())));
        let service = PositionService::new(Arc::new(ex));
        let actor = Actor::system(TenantId::new_random());
        assert_eq!(
            service.spot(&actor),
            Err(ExchangeError::NoPrice("XRPUSDT".into()))
        );
        assert!(matches!(
            service.futures(&actor),
            Err(ExchangeError::Unavailable(_))
        ));
    }
}
