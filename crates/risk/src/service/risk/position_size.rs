//! Position sizing: volatility target and fractional Kelly, capped by the limits; ATR stops.

#[allow(clippy::wildcard_imports)]
use super::*;

impl RiskService {
    /// How much of `symbol` to buy now: volatility target and quarter Kelly on the symbol's
    /// daily returns (up to 252), the smaller of the two, capped by the limits and the book's
    /// other exposure; stops at 2·ATR(14) below and 3·ATR(14) above the price.
    ///
    /// # Errors
    /// 404 naming a symbol without market data; 422 with fewer than 30 daily returns; the
    /// exchange's and storage failures.
    pub fn position_size(
        &self,
        actor: &Actor,
        symbol: &str,
    ) -> Result<PositionSizeView, ServiceError> {
        let symbol =
            Symbol::parse(symbol).map_err(|_| ServiceError::UnknownSymbol(symbol.to_owned()))?;
        let limit = u32::try_from(DEFAULT_LOOKBACK_DAYS + 1).unwrap_or(u32::MAX);
        let candles = self
            .core
            .ports
            .market
            .daily_candles(actor, &symbol, limit)?;
        if candles.is_empty() {
            return Err(ServiceError::UnknownSymbol(symbol.to_string()));
        }
        let closes: Vec<f64> = candles.iter().filter_map(|c| c.close.to_f64()).collect();
        let r = returns::simple_returns(&closes)?;
        if r.len() < MIN_OBSERVATIONS {
            return Err(ServiceError::TooFewObservations {
                subject: symbol.to_string(),
                field: "symbol",
                have: r.len(),
                need: MIN_OBSERVATIONS,
            });
        }
        let bars: Vec<Bar> = candles
            .iter()
            .filter_map(|c| {
                Some(Bar {
                    high: c.high.to_f64()?,
                    low: c.low.to_f64()?,
                    close: c.close.to_f64()?,
                })
            })
            .collect();
        let atr = sizing::wilder_atr(&bars, ATR_PERIOD)?;
        let mean = crate::stats::mean(&r)?;
        let std_dev = crate::stats::std_dev(&r)?;
        let asset_volatility = std_dev * CRYPTO_PERIODS_PER_YEAR.sqrt();
        let book = self.core.book(actor)?;
        let price = self
            .core
            .ports
            .exchange
            .prices(actor, Market::Spot, std::slice::from_ref(&symbol))?
            .get(&symbol)
            .copied()
            .or_else(|| candles.last().map(|c| c.close))
            .filter(|p| *p > Decimal::ZERO)
            .ok_or_else(|| ServiceError::UnknownSymbol(symbol.to_string()))?;
        let limits = self.core.limits(actor)?;
        let equity = book.total_value();
        let stops = sizing::atr_stops(price, atr, Side::Long, StopRule::default())?;
        let kelly_input = KellyInput::Continuous { mean, std_dev };
        let kelly_weight =
            sizing::kelly_fraction(kelly_input)?.map(|f| f * sizing::DEFAULT_KELLY_FRACTION);
        let vt_weight = if asset_volatility > 0.0 {
            sizing::volatility_target_weight(limits.target_volatility, asset_volatility)?
        } else {
            // A price that never moved: nothing to scale by, the position cap decides.
            limits.max_position_weight
        };
        let base = PositionSizeView {
            symbol: symbol.clone(),
            price,
            recommended_size: Decimal::ZERO,
            recommended_value: Decimal::ZERO,
            max_size: Decimal::ZERO,
            risk_per_trade: Decimal::ZERO,
            stop_loss: stops.stop_loss,
            take_profit: stops.take_profit,
            method: SizingMethod::VolatilityTarget,
            weight: 0.0,
            volatility_target_weight: vt_weight,
            kelly_weight,
            bound: sizing::CapBound::None,
            asset_volatility,
            atr,
            equity,
            observations: r.len(),
        };
        if equity <= Decimal::ZERO {
            // Nothing to size against: an empty account.
            return Ok(base);
        }
        let nav = equity;
        let own = book
            .net_by_symbol()
            .get(&symbol)
            .copied()
            .unwrap_or_default()
            .abs();
        let existing_gross_weight = share(book.gross_exposure() - own, nav)
            .unwrap_or(0.0)
            .max(0.0);
        let input = SizingInput {
            equity,
            price,
            asset_volatility: if asset_volatility > 0.0 {
                asset_volatility
            } else {
                limits.target_volatility / vt_weight
            },
            kelly: Some(kelly_input),
            kelly_fraction: sizing::DEFAULT_KELLY_FRACTION,
            existing_gross_weight,
            atr,
            stops: StopRule::default(),
            side: Side::Long,
        };
        let rec = sizing::recommend(&input, &limits)?;
        Ok(PositionSizeView {
            recommended_size: rec.quantity,
            recommended_value: (rec.quantity * price).round_dp(8),
            max_size: rec.max_size,
            risk_per_trade: rec.risk_per_trade,
            method: rec.method,
            weight: rec.recommended.weight,
            bound: rec.recommended.bound,
            ..base
        })
    }
}
