//! Exposure metrics of `GET /api/v1/positions/metrics`.
//!
//! - `spot_value`: sum of spot values;
//! - `futures_notional`: sum of |quantity| x mark over futures positions;
//! - `net_exposure`: spot value + long notional - short notional (the directional exposure);
//! - `total_value`: spot value + futures unrealised PnL (what the positions are worth now,
//!   cash excluded);
//! - `hedge_ratio`: short futures notional on assets also held in spot / spot value of those
//!   assets (0 when there is no spot), a statistic, so a JSON number.

use std::collections::BTreeSet;

use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::Serialize;

use crate::{FuturesPositionView, SpotPosition};
use alphapulse_domain::PositionSide;

/// The metrics (quantities as decimal strings, the ratio as a number).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionMetrics {
    /// Spot value + futures unrealised PnL.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_value: Decimal,
    /// Spot value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub spot_value: Decimal,
    /// Gross futures notional.
    #[serde(with = "alphapulse_domain::decimal")]
    pub futures_notional: Decimal,
    /// Spot + long notional - short notional.
    #[serde(with = "alphapulse_domain::decimal")]
    pub net_exposure: Decimal,
    /// Number of spot holdings.
    pub spot_count: usize,
    /// Number of futures positions.
    pub futures_count: usize,
    /// Short notional on spot-held assets / their spot value.
    pub hedge_ratio: f64,
}

/// Computes the metrics from valued positions.
pub fn metrics(spot: &[SpotPosition], futures: &[FuturesPositionView]) -> PositionMetrics {
    let spot_value: Decimal = spot.iter().map(|s| s.value).sum();
    let futures_notional: Decimal = futures.iter().map(|f| f.notional).sum();
    let signed_notional: Decimal = futures
        .iter()
        .map(|f| match f.side {
            PositionSide::Long => f.notional,
            PositionSide::Short => -f.notional,
        })
        .sum();
    let held: BTreeSet<&str> = spot.iter().map(|s| s.symbol.as_str()).collect();
    let hedged_spot: Decimal = spot.iter().map(|s| s.value).sum();
    let short_on_held: Decimal = futures
        .iter()
        .filter(|f| f.side == PositionSide::Short && held.contains(f.symbol.as_str()))
        .map(|f| f.notional)
        .sum();
    let hedge_ratio = if hedged_spot.is_zero() {
        0.0
    } else {
        (short_on_held / hedged_spot).to_f64().unwrap_or(0.0)
    };
    PositionMetrics {
        total_value: spot_value + futures.iter().map(|f| f.unrealized_pnl).sum::<Decimal>(),
        spot_value,
        futures_notional,
        net_exposure: spot_value + signed_notional,
        spot_count: spot.len(),
        futures_count: futures.len(),
        hedge_ratio,
    }
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::Symbol;
    use rust_decimal_macros::dec;

    use super::*;

    fn spot(symbol: &str, value: Decimal) -> SpotPosition {
        SpotPosition {
            symbol: Symbol::parse(symbol).unwrap(),
            quantity: dec!(1),
            avg_price: value,
            current_price: value,
            value,
            unrealized_pnl: dec!(0),
        }
    }

    fn fut(
        symbol: &str,
        side: PositionSide,
        notional: Decimal,
        pnl: Decimal,
    ) -> FuturesPositionView {
        FuturesPositionView {
            symbol: Symbol::parse(symbol).unwrap(),
            side,
            quantity: dec!(1),
            entry_price: notional,
            mark_price: notional,
            leverage: dec!(1),
            notional,
            unrealized_pnl: pnl,
            liquidation_price: None,
        }
    }

    #[test]
    fn hedge_ratio_counts_only_shorts_on_held_assets() {
        let s = [spot("BTCUSDT", dec!(60000)), spot("ETHUSDT", dec!(40000))];
        let f = [
            fut("BTCUSDT", PositionSide::Short, dec!(30000), dec!(100)),
            fut("SOLUSDT", PositionSide::Short, dec!(5000), dec!(-50)),
            fut("ETHUSDT", PositionSide::Long, dec!(10000), dec!(0)),
        ];
        let m = metrics(&s, &f);
        assert_eq!(m.spot_value, dec!(100000));
        assert_eq!(m.futures_notional, dec!(45000));
        assert_eq!(
            m.net_exposure,
            dec!(100000) - dec!(30000) - dec!(5000) + dec!(10000)
        );
        assert_eq!(m.total_value, dec!(100050));
        assert!((m.hedge_ratio - 0.3).abs() < 1e-12, "{}", m.hedge_ratio);
        assert_eq!((m.spot_count, m.futures_count), (2, 3));
    }

    #[test]
    fn no_spot_means_a_zero_hedge_ratio() {
        let m = metrics(
            &[],
            &[fut("BTCUSDT", PositionSide::Short, dec!(1000), dec!(0))],
        );
        assert_eq!(m.hedge_ratio, 0.0);
        assert_eq!(m.net_exposure, dec!(-1000));
    }
}
