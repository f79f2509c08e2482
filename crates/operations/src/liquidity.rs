//! The liquidity use cases: the `alphapulse-liquidity` maths over the shared daily candles
//! (`MarketDataRepo`) and the tenant's holdings (through its exchange account).
//!
//! A symbol with no stored candle, or too few for the window, is not found (404): there is
//! nothing to compute. Sizes must be positive (the routes' schemas say so too).

use std::{collections::BTreeMap, sync::Arc};

use alphapulse_domain::{
    ports::{Actor, MarketDataRepo},
    Candle, ExchangeClient, Principal, Symbol, ValidationError,
};
use alphapulse_liquidity::{
    assess_book, assess_position, compute_metrics, history, plan_execution, square_root_impact,
    stress_test, Assessment, Bar, BookLiquidity, ExecutionParams, ExecutionPlan, Holding,
    ImpactEstimate, ImpactParams, LiquidityError, LiquidityMetrics, LiquidityParams, MetricsConfig,
    ScenarioKind, StressResult, Urgency,
};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::{OpsError, OpsResult};

/// The smallest participation rate (share of daily volume per day) the book is assessed at:
/// below it days to liquidate leave any useful (and finite) range.
pub const MIN_PARTICIPATION: f64 = 0.0001;

/// Days of history served at most.
pub const MAX_HISTORY_DAYS: u32 = 365;

/// The tenant's holdings for the book routes, with the symbols left out.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookReport {
    /// The book's liquidity.
    #[serde(flatten)]
    pub book: BookLiquidity,
    /// The participation rate used (share of daily volume per day).
    pub participation_rate: f64,
    /// Holdings left out: no (or too few) stored candles, or no price.
    pub symbols_without_data: Vec<String>,
}

/// The stress test of the tenant's book.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StressReport {
    /// The result.
    #[serde(flatten)]
    pub result: StressResult,
    /// Holdings left out: no (or too few) stored candles, or no price.
    pub symbols_without_data: Vec<String>,
}

/// The liquidity service.
#[derive(Clone)]
pub struct LiquidityService {
    market: Arc<dyn MarketDataRepo>,
    exchange: Arc<dyn ExchangeClient>,
    config: MetricsConfig,
}

impl std::fmt::Debug for LiquidityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiquidityService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn to_f64(d: rust_decimal::Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// The candles as the maths takes them.
pub fn bars(candles: &[Candle]) -> Vec<Bar> {
    candles
        .iter()
        .map(|c| Bar {
            date: c.open_time.date_naive(),
            open: to_f64(c.open),
            high: to_f64(c.high),
            low: to_f64(c.low),
            close: to_f64(c.close),
            volume: to_f64(c.volume),
        })
        .collect()
}

/// The API's answer to a maths failure on `symbol`'s data.
fn maths(symbol: &Symbol, err: LiquidityError) -> OpsError {
    match err {
        LiquidityError::TooFewBars { have, need, .. } => OpsError::NotFound(format!(
            "Enough market data for {symbol} ({need} daily candles needed, {have} stored)"
        )),
        LiquidityError::ZeroAdv => {
            OpsError::NotFound(format!("Traded volume for {symbol} in the window"))
        }
        LiquidityError::InvalidInput { field, reason, .. } => {
            OpsError::Invalid(ValidationError::new(field, reason))
        }
        other => OpsError::Internal(format!("{symbol}: {other}")),
    }
}

impl LiquidityService {
    /// The service with the default window (30 daily candles, Corwin-Schultz spread).
    pub fn new(market: Arc<dyn MarketDataRepo>, exchange: Arc<dyn ExchangeClient>) -> Self {
        Self {
            market,
            exchange,
            config: MetricsConfig::default(),
        }
    }

    fn bars(&self, actor: &Actor, symbol: &Symbol, limit: usize) -> OpsResult<Vec<Bar>> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let candles = self.market.daily_candles(actor, symbol, limit)?;
        if candles.is_empty() {
            return Err(OpsError::NotFound(format!("Market data for {symbol}")));
        }
        Ok(bars(&candles))
    }

    /// The metrics of `symbol` over the window.
    ///
    /// # Errors
    /// 404 without (enough) candles; storage failures.
    pub fn metrics(&self, caller: &Principal, symbol: &Symbol) -> OpsResult<LiquidityMetrics> {
        let bars = self.bars(&caller.actor(), symbol, self.config.window)?;
        compute_metrics(&bars, &self.config).map_err(|e| maths(symbol, e))
    }

    /// The metrics of each of the last `days` days (1..=365), oldest first.
    ///
    /// # Errors
    /// 422 for `days` out of range; 404 without (enough) candles; storage failures.
    pub fn history(
        &self,
        caller: &Principal,
        symbol: &Symbol,
        days: u32,
    ) -> OpsResult<Vec<LiquidityMetrics>> {
        if !(1..=MAX_HISTORY_DAYS).contains(&days) {
            return Err(ValidationError::new("days", "must be between 1 and 365").into());
        }
        let need = self.config.window + days as usize - 1;
        let bars = self.bars(&caller.actor(), symbol, need)?;
        history(&bars, &self.config, days as usize).map_err(|e| maths(symbol, e))
    }

    /// Liquidity of a position of `quantity` base units at `price` (default: the last close).
    ///
    /// # Errors
    /// 422 for non-positive sizes; 404 without (enough) candles; storage failures.
    pub fn assess(
        &self,
        caller: &Principal,
        symbol: &Symbol,
        quantity: f64,
        price: Option<f64>,
    ) -> OpsResult<Assessment> {
        let metrics = self.metrics(caller, symbol)?;
        let price = price.unwrap_or(metrics.last_close);
        assess_position(
            quantity,
            price,
            &metrics.conditions(),
            &LiquidityParams::default(),
        )
        .map_err(|e| maths(symbol, e))
    }

    /// Square-root impact of an order of `quantity` base units.
    ///
    /// # Errors
    /// 422 for non-positive sizes; 404 without (enough) candles or volume; storage failures.
    pub fn impact(
        &self,
        caller: &Principal,
        symbol: &Symbol,
        quantity: f64,
    ) -> OpsResult<ImpactEstimate> {
        let metrics = self.metrics(caller, symbol)?;
        square_root_impact(quantity, &metrics.conditions(), &ImpactParams::default())
            .map_err(|e| maths(symbol, e))
    }

    /// The execution plan of `quantity` base units.
    ///
    /// # Errors
    /// 422 for non-positive sizes or `max_impact` outside (0, 1]; 404 without (enough)
    /// candles or volume; storage failures.
    pub fn execution(
        &self,
        caller: &Principal,
        symbol: &Symbol,
        quantity: f64,
        urgency: Urgency,
        max_impact: f64,
    ) -> OpsResult<ExecutionPlan> {
        let metrics = self.metrics(caller, symbol)?;
        plan_execution(
            quantity,
            &metrics.conditions(),
            urgency,
            max_impact,
            &ExecutionParams::default(),
        )
        .map_err(|e| maths(symbol, e))
    }

    /// The tenant's holdings (spot and the absolute size of futures positions, summed per
    /// symbol) with their market conditions; the symbols that cannot be assessed aside.
    fn holdings(&self, actor: &Actor) -> OpsResult<(Vec<Holding>, Vec<String>)> {
        let mut sizes: BTreeMap<Symbol, (f64, Option<f64>)> = BTreeMap::new();
        for (balance, price) in self.exchange.spot_valued(actor)? {
            let entry = sizes.entry(balance.symbol).or_insert((0.0, None));
            entry.0 += to_f64(balance.quantity).abs();
            entry.1 = entry.1.or(price.map(to_f64));
        }
        for position in self.exchange.futures_positions(actor)? {
            let entry = sizes.entry(position.symbol).or_insert((0.0, None));
            // Long or short, the whole size has to be unwound.
            entry.0 += to_f64(position.quantity).abs();
            entry.1 = entry
                .1
                .or(position.mark_price.map(to_f64))
                .or(Some(to_f64(position.entry_price)));
        }
        sizes.retain(|_, (quantity, _)| quantity.is_finite() && *quantity > 0.0);
        // One read for every symbol; a symbol absent (or without candles) is not found.
        let symbols: Vec<Symbol> = sizes.keys().cloned().collect();
        let limit = u32::try_from(self.config.window).unwrap_or(u32::MAX);
        let mut candles = self.market.daily_candles_many(actor, &symbols, limit)?;
        let mut holdings = Vec::new();
        let mut missing = Vec::new();
        for (symbol, (quantity, price)) in sizes {
            let metrics = match candles.remove(&symbol).filter(|c| !c.is_empty()) {
                Some(candles) => {
                    compute_metrics(&bars(&candles), &self.config).map_err(|e| maths(&symbol, e))
                }
                None => Err(OpsError::NotFound(format!("Market data for {symbol}"))),
            };
            let metrics = match metrics {
                Ok(m) => m,
                Err(OpsError::NotFound(_)) => {
                    missing.push(symbol.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let price = price
                .filter(|p| p.is_finite() && *p > 0.0)
                .unwrap_or(metrics.last_close);
            holdings.push(Holding {
                symbol: symbol.to_string(),
                quantity,
                price,
                conditions: metrics.conditions(),
            });
        }
        Ok((holdings, missing))
    }

    /// Days to liquidate each holding and the book at `participation_rate` of daily volume
    /// (default 10 %, at least [`MIN_PARTICIPATION`]).
    ///
    /// # Errors
    /// 422 for a rate outside `MIN_PARTICIPATION..=1`; the exchange or storage failing.
    pub fn portfolio(
        &self,
        caller: &Principal,
        participation_rate: Option<f64>,
    ) -> OpsResult<BookReport> {
        let mut params = LiquidityParams::default();
        if let Some(rate) = participation_rate {
            if !(rate.is_finite() && (MIN_PARTICIPATION..=1.0).contains(&rate)) {
                return Err(
                    ValidationError::new("participation_rate", "must lie in 0.0001..=1").into(),
                );
            }
            params.participation_rate = rate;
        }
        let (holdings, missing) = self.holdings(&caller.actor())?;
        let book =
            assess_book(&holdings, &params).map_err(|e| OpsError::Internal(e.to_string()))?;
        Ok(BookReport {
            book,
            participation_rate: params.participation_rate,
            symbols_without_data: missing,
        })
    }

    /// The liquidation cost of the tenant's book under `scenario`.
    ///
    /// # Errors
    /// The exchange or storage failing.
    pub fn stress(&self, caller: &Principal, scenario: ScenarioKind) -> OpsResult<StressReport> {
        let (holdings, missing) = self.holdings(&caller.actor())?;
        let result = stress_test(&holdings, &scenario.scenario(), &LiquidityParams::default())
            .map_err(|e| OpsError::Internal(e.to_string()))?;
        Ok(StressReport {
            result,
            symbols_without_data: missing,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::{
        exchange::MockExchangeClient, ports::MockMarketDataRepo, FuturesPosition, PositionSide,
        Role, SpotBalance, TenantId, UserId,
    };
    use alphapulse_liquidity::synthetic;
    use chrono::{NaiveDate, TimeZone, Utc};
    use rust_decimal::Decimal;

    use super::*;

    fn caller() -> Principal {
        Principal {
            tenant_id: TenantId::new_random(),
            user_id: UserId::new_random(),
            role: Role::Viewer,
            request_id: None,
            client_request_id: None,
        }
    }

    fn dec(x: f64) -> Decimal {
        Decimal::from_f64_retain(x).unwrap().round_dp(8)
    }

    /// 90 synthetic daily candles of `symbol` with a planted 1 % spread.
    fn candles(symbol: &Symbol, limit: u32) -> Vec<Candle> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let bars = synthetic::with_spread(1, start, 90, 30_000.0, 0.03, 0.01, 2_000.0);
        let all: Vec<Candle> = bars
            .iter()
            .map(|b| Candle {
                symbol: symbol.clone(),
                open_time: Utc.from_utc_datetime(&b.date.and_hms_opt(0, 0, 0).unwrap()),
                open: dec(b.open),
                high: dec(b.high),
                low: dec(b.low),
                close: dec(b.close),
                volume: dec(b.volume),
            })
            .collect();
        all[all.len().saturating_sub(limit as usize)..].to_vec()
    }

    fn market() -> MockMarketDataRepo {
        let mut market = MockMarketDataRepo::new();
        market.expect_daily_candles().returning(|_, symbol, limit| {
            Ok(if symbol.as_str() == "BTCUSDT" {
                candles(symbol, limit)
            } else {
                Vec::new()
            })
        });
        market
            .expect_daily_candles_many()
            .returning(|_, symbols, limit| {
                Ok(symbols
                    .iter()
                    .filter(|s| s.as_str() == "BTCUSDT")
                    .map(|s| (s.clone(), candles(s, limit)))
                    .collect())
            });
        market
    }

    #[test]
    fn metrics_come_from_the_stored_candles_and_unknown_symbols_are_not_found() {
        let service =
            LiquidityService::new(Arc::new(market()), Arc::new(MockExchangeClient::new()));
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let m = service.metrics(&caller(), &btc).unwrap();
        assert_eq!(m.observations, 30);
        let expected =
            compute_metrics(&bars(&candles(&btc, 30)), &MetricsConfig::default()).unwrap();
        assert_eq!(m, expected);
        let xyz = Symbol::parse("XYZUSDT").unwrap();
        assert!(matches!(
            service.metrics(&caller(), &xyz),
            Err(OpsError::NotFound(_))
        ));
        assert_eq!(service.history(&caller(), &btc, 10).unwrap().len(), 10);
        assert!(matches!(
            service.history(&caller(), &btc, 90),
            Err(OpsError::NotFound(m)) if m.contains("119 daily candles needed, 90 stored")
        ));
        assert!(matches!(
            service.assess(&caller(), &btc, -1.0, None),
            Err(OpsError::Invalid(v)) if v.field == "quantity"
        ));
    }

    #[test]
    fn the_book_adds_spot_and_futures_and_sets_aside_symbols_without_data() {
        let mut exchange = MockExchangeClient::new();
        exchange.expect_spot_valued().returning(|_| {
            Ok(vec![
                (
                    SpotBalance {
                        symbol: Symbol::parse("BTCUSDT").unwrap(),
                        asset: "BTC".into(),
                        quantity: Decimal::from(2),
                        avg_price: None,
                    },
                    Some(Decimal::from(30_000)),
                ),
                (
                    SpotBalance {
                        symbol: Symbol::parse("XYZUSDT").unwrap(),
                        asset: "XYZ".into(),
                        quantity: Decimal::from(5),
                        avg_price: None,
                    },
                    None,
                ),
            ])
        });
        exchange.expect_futures_positions().returning(|_| {
            Ok(vec![FuturesPosition {
                symbol: Symbol::parse("BTCUSDT").unwrap(),
                side: PositionSide::Short,
                quantity: Decimal::ONE,
                entry_price: Decimal::from(29_000),
                mark_price: None,
                leverage: Decimal::ONE,
                liquidation_price: None,
            }])
        });
        let service = LiquidityService::new(Arc::new(market()), Arc::new(exchange));
        let report = service.portfolio(&caller(), Some(0.2)).unwrap();
        assert_eq!(report.symbols_without_data, ["XYZUSDT"]);
        assert_eq!(report.book.holdings.len(), 1);
        assert!((report.book.holdings[0].assessment.quantity - 3.0).abs() < 1e-12);
        assert!((report.participation_rate - 0.2).abs() < 1e-12);
        let crash = service
            .stress(&caller(), ScenarioKind::MarketCrash)
            .unwrap();
        assert!(crash.result.total_loss > crash.result.market_loss);
    }
}
