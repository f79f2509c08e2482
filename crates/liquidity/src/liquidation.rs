//! Days to liquidate, the liquidity score, expected slippage, and the assessment of one
//! position.
//!
//! # Days to liquidate
//! ```text
//! days = Q / (rate * ADV)          rate = 10 % of ADV per day by default
//! ```
//!
//! the convention of fund liquidity-risk reporting (sell no more than a fixed share of each
//! day's volume). `None` when `ADV = 0`: the position cannot be sold on the market (never an
//! infinity in the results).
//!
//! # Liquidity score (0..1)
//! ```text
//! s_days   = 1 / (1 + days / d_half)                d_half = 1 day        (0 when days is None)
//! s_spread = 1 / (1 + spread_bps / s_half)          s_half = 50 bps
//! score    = s_days^w * s_spread^(1 - w)            w = 0.7
//! ```
//!
//! Each factor is 1 for a free, instant exit and halves at its half-point (one day to exit; a
//! 50 bps spread); the weighted geometric mean keeps the score in `[0, 1]`, decreasing in both,
//! and 0 when nothing trades. Time to exit weighs more than the spread because it is the risk
//! that grows with size.
//!
//! # Expected slippage
//! ```text
//! slippage_bps = spread_bps / 2 + I_bps
//! ```
//!
//! paying half the estimated spread ([`crate::spread`]) plus the square-root impact of the
//! whole position ([`crate::impact`]); `expected_cost = notional * slippage_bps / 1e4` in quote
//! units.

use serde::{Deserialize, Serialize};

use crate::error::{finite, non_negative, positive, LiquidityError, Result};
use crate::impact::{
    participation_rate, square_root_impact, ImpactEstimate, ImpactParams, MarketConditions,
};

/// Parameters of the liquidity score. `Default` gives the documented values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreParams {
    /// Days to liquidate at which the time factor is 0.5 (default 1.0).
    pub days_half: f64,
    /// Spread in bps at which the spread factor is 0.5 (default 50).
    pub spread_half_bps: f64,
    /// Weight `w` of the time factor, in `[0, 1]` (default 0.7).
    pub days_weight: f64,
}

impl Default for ScoreParams {
    fn default() -> Self {
        Self {
            days_half: 1.0,
            spread_half_bps: 50.0,
            days_weight: 0.7,
        }
    }
}

/// Parameters shared by assessments, books and stress tests. `Default` gives the documented
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LiquidityParams {
    /// Share of ADV sold per day when liquidating, in `(0, 1]` (default 0.10).
    pub participation_rate: f64,
    /// Square-root law parameters.
    pub impact: ImpactParams,
    /// Liquidity score parameters.
    pub score: ScoreParams,
}

impl Default for LiquidityParams {
    fn default() -> Self {
        Self {
            participation_rate: 0.10,
            impact: ImpactParams::default(),
            score: ScoreParams::default(),
        }
    }
}

/// The liquidity of one position.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// Position size, base units.
    pub quantity: f64,
    /// Price used, quote units.
    pub price: f64,
    /// `quantity x price`, quote units.
    pub notional: f64,
    /// `quantity / ADV`; `None` when nothing trades.
    pub order_to_adv: Option<f64>,
    /// Days to sell at the participation rate; `None` when nothing trades.
    pub days_to_liquidate: Option<f64>,
    /// Half the estimated spread, bps.
    pub half_spread_bps: f64,
    /// Square-root impact of the whole position; `None` when nothing trades.
    pub impact: Option<ImpactEstimate>,
    /// `half_spread_bps + impact.total_bps`; `None` when nothing trades.
    pub expected_slippage_bps: Option<f64>,
    /// `notional x slippage`, quote units; `None` when nothing trades.
    pub expected_cost: Option<f64>,
    /// Liquidity score in `[0, 1]`.
    pub liquidity_score: f64,
    /// What to do about it, in a sentence.
    pub advice: String,
}

/// Days to sell `quantity` at `rate x adv` per day; `None` when `adv` is 0.
///
/// # Errors
/// [`LiquidityError::InvalidInput`] for a quantity that is not positive, a negative ADV or a
/// rate outside `(0, 1]`.
pub fn days_to_liquidate(quantity: f64, adv: f64, rate: f64) -> Result<Option<f64>> {
    positive("quantity", quantity)?;
    non_negative("adv", adv)?;
    participation_rate(rate)?;
    if adv == 0.0 {
        return Ok(None);
    }
    Ok(Some(finite("days_to_liquidate", quantity / (rate * adv))?))
}

/// The liquidity score of a position taking `days` to exit (`None`: never) with a spread of
/// `spread_bps`. Always in `[0, 1]`; non-finite or negative inputs count as the worst case.
#[must_use]
pub fn liquidity_score(days: Option<f64>, spread_bps: f64, params: &ScoreParams) -> f64 {
    let factor = |x: f64, half: f64| {
        if x.is_nan() || half.is_nan() || half <= 0.0 {
            0.0
        } else {
            1.0 / (1.0 + x.max(0.0) / half)
        }
    };
    let s_days = days.map_or(0.0, |d| factor(d, params.days_half));
    let s_spread = factor(spread_bps, params.spread_half_bps);
    let w = if params.days_weight.is_nan() {
        0.5
    } else {
        params.days_weight.clamp(0.0, 1.0)
    };
    (s_days.powf(w) * s_spread.powf(1.0 - w)).clamp(0.0, 1.0)
}

/// Assesses a position of `quantity` base units valued at `price`.
///
/// # Errors
/// [`LiquidityError::InvalidInput`] for a quantity or price that is not positive, bad
/// conditions or parameters; [`LiquidityError::NonFinite`] on overflow.
///
/// # Examples
/// ```
/// use alphapulse_liquidity::{assess_position, LiquidityParams, MarketConditions};
///
/// let market = MarketConditions { adv: 1_000.0, sigma_daily: 0.03, spread: 0.0010, sigma_observations: 29 };
/// let a = assess_position(50.0, 60_000.0, &market, &LiquidityParams::default()).unwrap();
/// assert_eq!(a.days_to_liquidate, Some(0.5)); // 50 / (10 % x 1 000)
/// assert!(a.liquidity_score > 0.0 && a.liquidity_score <= 1.0);
/// ```
pub fn assess_position(
    quantity: f64,
    price: f64,
    conditions: &MarketConditions,
    params: &LiquidityParams,
) -> Result<Assessment> {
    positive("quantity", quantity)?;
    positive("price", price)?;
    conditions.validate()?;
    let rate = params.participation_rate;
    let days = days_to_liquidate(quantity, conditions.adv, rate)?;
    let impact = match square_root_impact(quantity, conditions, &params.impact) {
        Ok(i) => Some(i),
        Err(LiquidityError::ZeroAdv) => None,
        Err(e) => return Err(e),
    };
    let notional = finite("notional", quantity * price)?;
    let spread_bps = conditions.spread * 1e4;
    let half_spread_bps = spread_bps / 2.0;
    let slippage = impact.map(|i| half_spread_bps + i.total_bps);
    let expected_cost = slippage
        .map(|s| finite("expected_cost", notional * s / 1e4))
        .transpose()?;
    let score = liquidity_score(days, spread_bps, &params.score);
    Ok(Assessment {
        quantity,
        price,
        notional,
        order_to_adv: impact.map(|i| i.participation),
        days_to_liquidate: days,
        half_spread_bps,
        impact,
        expected_slippage_bps: slippage,
        expected_cost,
        liquidity_score: score,
        advice: advice(
            days,
            slippage,
            rate,
            impact.is_some_and(|i| i.beyond_calibrated_range),
        ),
    })
}

/// The one-sentence advice for an exit taking `days` at `rate`.
fn advice(days: Option<f64>, slippage_bps: Option<f64>, rate: f64, extrapolated: bool) -> String {
    let pct = rate * 100.0;
    let mut text = match (days, slippage_bps) {
        (Some(d), Some(s)) if d <= 1.0 => format!(
            "Liquid: the position can be exited within a day at {pct:.0}% of daily volume; \
             expected slippage {s:.1} bps."
        ),
        (Some(d), Some(s)) if d <= 5.0 => format!(
            "Exiting takes {d:.1} days at {pct:.0}% of daily volume: work orders over several \
             sessions (VWAP); expected slippage {s:.1} bps."
        ),
        (Some(d), Some(s)) if d <= 20.0 => format!(
            "Illiquid: {d:.1} days to exit at {pct:.0}% of daily volume and {s:.1} bps expected \
             slippage; consider reducing the position or hedging with a liquid proxy."
        ),
        (Some(d), Some(s)) => format!(
            "Very illiquid: {d:.0} days to exit at {pct:.0}% of daily volume and {s:.1} bps \
             expected slippage; reduce gradually and do not add to the position."
        ),
        _ => "No traded volume in the window: the position cannot be exited on the market; \
              do not add to it."
            .to_owned(),
    };
    if extrapolated {
        text.push_str(" The position exceeds the range the impact model is calibrated on.");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn market(adv: f64, sigma: f64, spread: f64) -> MarketConditions {
        MarketConditions {
            adv,
            sigma_daily: sigma,
            spread,
            sigma_observations: 29,
        }
    }

    #[test]
    fn days_to_liquidate_by_hand() {
        // 500 units, ADV 1 000, 10 %/day -> 500 / 100 = 5 days.
        assert_eq!(days_to_liquidate(500.0, 1_000.0, 0.10), Ok(Some(5.0)));
        assert_eq!(days_to_liquidate(500.0, 0.0, 0.10), Ok(None));
        assert!(days_to_liquidate(0.0, 1_000.0, 0.10).is_err());
        assert!(days_to_liquidate(-1.0, 1_000.0, 0.10).is_err());
        assert!(days_to_liquidate(1.0, 1_000.0, 0.0).is_err());
        assert!(days_to_liquidate(1.0, 1_000.0, 1.1).is_err());
    }

    #[test]
    fn score_by_hand() {
        // days = 1, spread = 50 bps: both factors 0.5 -> 0.5^0.7 x 0.5^0.3 = 0.5.
        let p = ScoreParams::default();
        assert!((liquidity_score(Some(1.0), 50.0, &p) - 0.5).abs() < 1e-12);
        // days = 3, spread = 0: s_days = 1/4, s_spread = 1 -> 0.25^0.7 = 0.3789291.
        assert!((liquidity_score(Some(3.0), 0.0, &p) - 0.25f64.powf(0.7)).abs() < 1e-12);
        // Instant and free: 1. Never: 0.
        assert_eq!(liquidity_score(Some(0.0), 0.0, &p), 1.0);
        assert_eq!(liquidity_score(None, 0.0, &p), 0.0);
    }

    #[test]
    fn assessment_by_hand() {
        // Q = 50, ADV = 1 000, sigma = 3 %, spread = 10 bps, price 60 000:
        //   days = 50 / 100 = 0.5; I = 0.03 sqrt(0.05) = 67.082 bps; half spread = 5 bps
        //   slippage = 72.082 bps; notional = 3 000 000; cost = 3e6 x 72.082e-4 = 21 624.6
        //   score = (1/1.5)^0.7 x (1/1.2)^0.3 = 0.7529 x 0.9468 = 0.7129
        let a = assess_position(
            50.0,
            60_000.0,
            &market(1_000.0, 0.03, 0.001),
            &LiquidityParams::default(),
        )
        .unwrap();
        let impact = 300.0 * 0.05f64.sqrt();
        assert_eq!(a.days_to_liquidate, Some(0.5));
        assert!((a.half_spread_bps - 5.0).abs() < 1e-12);
        assert!((a.expected_slippage_bps.unwrap() - (5.0 + impact)).abs() < 1e-9);
        assert!((a.expected_cost.unwrap() - 3e6 * (5.0 + impact) / 1e4).abs() < 1e-6);
        let score = (1.0f64 / 1.5).powf(0.7) * (1.0f64 / 1.2).powf(0.3);
        assert!((a.liquidity_score - score).abs() < 1e-12);
        assert!(a.advice.starts_with("Liquid"), "{}", a.advice);
        assert_eq!(a.order_to_adv, Some(0.05));
    }

    #[test]
    fn zero_adv_gives_none_and_zero_score() {
        let a = assess_position(
            1.0,
            10.0,
            &market(0.0, 0.03, 0.001),
            &LiquidityParams::default(),
        )
        .unwrap();
        assert_eq!(a.days_to_liquidate, None);
        assert_eq!(a.impact, None);
        assert_eq!(a.expected_slippage_bps, None);
        assert_eq!(a.liquidity_score, 0.0);
        assert!(a.advice.starts_with("No traded volume"));
        let json = serde_json::to_value(&a).unwrap();
        assert!(json["days_to_liquidate"].is_null());
    }

    #[test]
    fn advice_bands() {
        let m = market(1_000.0, 0.03, 0.001);
        let p = LiquidityParams::default();
        let text = |q| assess_position(q, 1.0, &m, &p).unwrap().advice;
        assert!(text(300.0).starts_with("Exiting takes 3.0 days"));
        assert!(text(1_000.0).starts_with("Illiquid"));
        assert!(text(5_000.0).starts_with("Very illiquid"));
        assert!(text(5_000.0).ends_with("calibrated on."));
    }

    #[test]
    fn invalid_sizes_are_rejected() {
        let m = market(1_000.0, 0.03, 0.001);
        let p = LiquidityParams::default();
        assert!(matches!(
            assess_position(-1.0, 1.0, &m, &p),
            Err(LiquidityError::InvalidInput {
                field: "quantity",
                ..
            })
        ));
        assert!(assess_position(1.0, 0.0, &m, &p).is_err());
        let bad_rate = LiquidityParams {
            participation_rate: 0.0,
            ..p
        };
        assert!(assess_position(1.0, 1.0, &m, &bad_rate).is_err());
    }

    proptest! {
        #[test]
        fn score_stays_in_unit_interval(
            days in proptest::option::of(prop_oneof![0.0f64..1e12, Just(f64::NAN), Just(f64::INFINITY)]),
            spread in prop_oneof![0.0f64..1e6, Just(f64::NAN), Just(-5.0)],
            half in 1e-6f64..1e3,
            w in -1.0f64..2.0,
        ) {
            let p = ScoreParams { days_half: half, spread_half_bps: half * 10.0, days_weight: w };
            let s = liquidity_score(days, spread, &p);
            prop_assert!((0.0..=1.0).contains(&s), "{s}");
        }

        #[test]
        fn assessment_score_in_unit_interval_and_decreasing_in_size(
            q in 1e-6f64..1e9, adv in 0.0f64..1e9, sigma in 0.0f64..0.3, spread in 0.0f64..0.1,
        ) {
            let m = market(adv, sigma, spread);
            let p = LiquidityParams::default();
            let small = assess_position(q, 100.0, &m, &p).unwrap();
            let large = assess_position(q * 2.0, 100.0, &m, &p).unwrap();
            prop_assert!((0.0..=1.0).contains(&small.liquidity_score));
            prop_assert!(large.liquidity_score <= small.liquidity_score);
            if let (Some(a), Some(b)) = (small.expected_slippage_bps, large.expected_slippage_bps) {
                prop_assert!(a <= b && a >= 0.0);
            }
        }
    }
}
