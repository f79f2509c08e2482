//! Position sizing: how much of the equity one position may take.
//!
//! Two sizers, each turned into a weight of equity and then capped by the tenant's limits:
//!
//! - **Volatility target** (Moreira & Muir, "Volatility-Managed Portfolios", *Journal of
//!   Finance* 72(4), 2017; Harvey et al., "The Impact of Volatility Targeting", *Journal of
//!   Portfolio Management* 45(1), 2018): `w = σ_target / σ_asset`, both annualised, so the
//!   position alone would run at the target volatility. Sizes down exactly when the asset gets
//!   wilder, whatever its expected return.
//! - **Fractional Kelly** (Kelly, "A New Interpretation of Information Rate", *Bell System
//!   Technical Journal* 35, 1956; Thorp, "The Kelly Criterion in Blackjack, Sports Betting and
//!   the Stock Market", 2006): the growth-optimal fraction `f*`, scaled by a fraction
//!   (default [`DEFAULT_KELLY_FRACTION`] = ¼, MacLean, Thorp & Ziemba, *The Kelly Capital Growth
//!   Investment Criterion*, 2011: a quarter Kelly keeps most of the growth with far smaller
//!   drawdowns and is robust to an over-estimated edge). Two variants, chosen by the caller:
//!   - [`KellyInput::Continuous`]: `f* = μ / σ²` for continuously distributed returns with mean
//!     `μ` and variance `σ²` (Thorp's continuous approximation, zero risk-free rate). The ratio does not
//!     depend on the period as long as `μ` and `σ` share it (annualising multiplies both `μ`
//!     and `σ²` by `P`). This is the one to use with a return history.
//!   - [`KellyInput::WinLoss`]: `f* = p − (1 − p)/b` for a bet won with probability `p` paying
//!     `b` times the stake lost otherwise (Kelly 1956), for a strategy's trade record (win
//!     rate, average win / average loss).
//!
//!   A non-positive `f*` means no edge: the size is 0 ([`CapBound::NoEdge`]); the sizer never
//!   turns a lack of edge into a short.
//!
//! **Caps** ([`cap_weight`]): a weight never exceeds `max_position_weight`, nor the leverage
//! still available, `max_leverage − existing gross weight` of the rest of the book; the result
//! says which cap bound ([`CapBound`]). [`recommend`] takes the *smaller* of the two capped
//! sizes, so both the edge and the risk have to agree before a position grows.
//!
//! Stops come from Wilder's ATR in [`atr`].

pub mod atr;

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

pub use atr::{atr_stops, true_ranges, wilder_atr, Bar, Side, StopRule, Stops};

use crate::error::{Result, RiskError};
use crate::stats::{check_non_negative, check_positive, finite};

/// A quarter Kelly.
pub const DEFAULT_KELLY_FRACTION: f64 = 0.25;

/// Decimal places of sizes in quote currency and units (exchanges trade at most 8).
pub const SIZE_DECIMALS: u32 = 8;

/// A tenant's risk limits: the domain's one definition (`GET/PATCH /api/v1/risk/limits`),
/// with the platform defaults and the valid ranges ([`LIMIT_RANGES`]).
pub use alphapulse_domain::ports::{RiskLimits, LIMIT_RANGES};

/// Checks every limit is in its range ([`LIMIT_RANGES`], the domain's rule).
///
/// # Errors
/// [`RiskError::InvalidParameter`] naming the first limit out of range.
pub fn check_limits(limits: &RiskLimits) -> Result<()> {
    match limits.check().first() {
        Some(e) => Err(RiskError::InvalidParameter {
            name: e.field,
            reason: "outside its valid range",
        }),
        None => Ok(()),
    }
}

/// Which rule decided a position's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CapBound {
    /// The sizer's own weight, below every cap.
    None,
    /// Capped at `max_position_weight`.
    MaxPositionWeight,
    /// Capped by the leverage left under `max_leverage`.
    MaxLeverage,
    /// The sizer saw no edge (Kelly `f* <= 0`): zero.
    NoEdge,
}

/// Applies the caps to a sizer's weight; `existing_gross_weight` is the gross exposure / equity
/// of the rest of the book.
pub fn cap_weight(
    raw_weight: f64,
    limits: &RiskLimits,
    existing_gross_weight: f64,
) -> (f64, CapBound) {
    if raw_weight <= 0.0 {
        return (0.0, CapBound::NoEdge);
    }
    let leverage_room = (limits.max_leverage - existing_gross_weight).max(0.0);
    let (cap, bound) = if leverage_room < limits.max_position_weight {
        (leverage_room, CapBound::MaxLeverage)
    } else {
        (limits.max_position_weight, CapBound::MaxPositionWeight)
    };
    if raw_weight > cap {
        (cap, bound)
    } else {
        (raw_weight, CapBound::None)
    }
}

/// A sized position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PositionSize {
    /// The sizer's weight before the caps.
    pub raw_weight: f64,
    /// The weight after the caps, `>= 0`.
    pub weight: f64,
    /// `weight × equity`, in quote currency, rounded to [`SIZE_DECIMALS`].
    pub value: Decimal,
    /// Which rule decided `weight`.
    pub bound: CapBound,
}

impl PositionSize {
    /// Units of the asset at `price`, rounded *down* to [`SIZE_DECIMALS`] so the cap holds.
    /// `None` for a price `<= 0`.
    pub fn quantity(&self, price: Decimal) -> Option<Decimal> {
        if price <= Decimal::ZERO {
            return None;
        }
        self.value.checked_div(price).map(|q| {
            q.round_dp_with_strategy(SIZE_DECIMALS, rust_decimal::RoundingStrategy::ToZero)
        })
    }
}

fn weight_of(equity: Decimal, weight: f64) -> Result<Decimal> {
    Decimal::from_f64(weight)
        .and_then(|w| equity.checked_mul(w))
        .map(|v| v.round_dp(SIZE_DECIMALS))
        .ok_or(RiskError::InvalidParameter {
            name: "equity",
            reason: "position value out of decimal range",
        })
}

fn check_sizing(equity: Decimal, limits: &RiskLimits, existing_gross_weight: f64) -> Result<()> {
    check_limits(limits)?;
    check_non_negative(existing_gross_weight, "existing_gross_weight")?;
    if equity <= Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "equity",
            reason: "must be greater than 0",
        });
    }
    Ok(())
}

/// Sizes a position from a sizer's raw weight: caps, then value in quote currency.
///
/// # Errors
/// Invalid limits, `equity <= 0`, a negative or non-finite existing gross weight, a
/// non-finite raw weight.
pub fn size_position(
    raw_weight: f64,
    equity: Decimal,
    limits: &RiskLimits,
    existing_gross_weight: f64,
) -> Result<PositionSize> {
    check_sizing(equity, limits, existing_gross_weight)?;
    if !raw_weight.is_finite() {
        return Err(RiskError::InvalidParameter {
            name: "raw_weight",
            reason: "must be finite",
        });
    }
    let (weight, bound) = cap_weight(raw_weight, limits, existing_gross_weight);
    Ok(PositionSize {
        raw_weight,
        weight,
        value: weight_of(equity, weight)?,
        bound,
    })
}

/// Volatility-target weight `σ_target / σ_asset` (both annualised).
///
/// # Errors
/// Either volatility `<= 0` or non-finite (a zero-volatility asset has no volatility-target
/// size).
pub fn volatility_target_weight(target_volatility: f64, asset_volatility: f64) -> Result<f64> {
    check_positive(target_volatility, "target_volatility")?;
    check_positive(asset_volatility, "asset_volatility")?;
    finite(target_volatility / asset_volatility).ok_or(RiskError::InvalidParameter {
        name: "asset_volatility",
        reason: "too small for a finite weight",
    })
}

/// What the Kelly sizer knows about the edge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "variant")]
pub enum KellyInput {
    /// Mean and standard deviation of returns over the same period: `f* = μ / σ²`.
    Continuous {
        /// Mean return per period.
        mean: f64,
        /// Standard deviation per period.
        std_dev: f64,
    },
    /// Win probability `p` and payoff ratio `b` (average win / average loss):
    /// `f* = p − (1 − p)/b`.
    WinLoss {
        /// Probability of a winning trade, in [0, 1].
        win_probability: f64,
        /// Average win / average loss, `> 0`.
        payoff_ratio: f64,
    },
}

/// The full Kelly fraction `f*`; `None` when it is undefined (zero variance).
///
/// # Errors
/// Non-finite inputs, a negative standard deviation, `p` outside [0, 1], `b <= 0`.
pub fn kelly_fraction(input: KellyInput) -> Result<Option<f64>> {
    match input {
        KellyInput::Continuous { mean, std_dev } => {
            crate::stats::check_finite(&[mean], "mean")?;
            check_non_negative(std_dev, "std_dev")?;
            if std_dev == 0.0 {
                return Ok(None);
            }
            Ok(finite(mean / (std_dev * std_dev)))
        }
        KellyInput::WinLoss {
            win_probability: p,
            payoff_ratio: b,
        } => {
            if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                return Err(RiskError::InvalidParameter {
                    name: "win_probability",
                    reason: "must be in [0, 1]",
                });
            }
            check_positive(b, "payoff_ratio")?;
            Ok(finite(p - (1.0 - p) / b))
        }
    }
}

/// Everything the position-size answer needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizingInput {
    /// Account equity in quote currency.
    pub equity: Decimal,
    /// Entry price.
    pub price: Decimal,
    /// The asset's annualised volatility.
    pub asset_volatility: f64,
    /// The edge, if known; without it only the volatility target sizes.
    pub kelly: Option<KellyInput>,
    /// Fraction of full Kelly, in (0, 1]; [`DEFAULT_KELLY_FRACTION`].
    pub kelly_fraction: f64,
    /// Gross exposure / equity of the rest of the book.
    pub existing_gross_weight: f64,
    /// Wilder ATR of the asset, in price units.
    pub atr: f64,
    /// Stop and target rule.
    pub stops: StopRule,
    /// Long or short.
    pub side: Side,
}

/// Which sizer the recommendation followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SizingMethod {
    /// [`volatility_target_weight`].
    VolatilityTarget,
    /// Fractional Kelly.
    FractionalKelly,
}

/// The position-size answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Recommendation {
    /// The volatility-target size.
    pub volatility_target: PositionSize,
    /// The fractional-Kelly size, when the edge is known and defined.
    pub kelly: Option<PositionSize>,
    /// The smaller of the two.
    pub recommended: PositionSize,
    /// The sizer `recommended` came from.
    pub method: SizingMethod,
    /// Units to trade at the entry price.
    pub quantity: Decimal,
    /// The largest value the caps allow, in quote currency.
    pub max_size: Decimal,
    /// Loss if the stop is hit: `quantity × |entry − stop|`, in quote currency.
    pub risk_per_trade: Decimal,
    /// Stop loss and take profit.
    pub stops: Stops,
}

/// Sizes a position both ways, takes the smaller, and attaches ATR stops.
///
/// # Errors
/// Any input out of range (see the functions it combines), `price <= 0`.
pub fn recommend(input: &SizingInput, limits: &RiskLimits) -> Result<Recommendation> {
    let eq = input.equity;
    let gross = input.existing_gross_weight;
    let vt_weight = volatility_target_weight(limits.target_volatility, input.asset_volatility)?;
    let volatility_target = size_position(vt_weight, eq, limits, gross)?;
    let kelly = match input.kelly {
        Some(k) => {
            if !(input.kelly_fraction > 0.0 && input.kelly_fraction <= 1.0) {
                return Err(RiskError::InvalidParameter {
                    name: "kelly_fraction",
                    reason: "must be in (0, 1]",
                });
            }
            match kelly_fraction(k)? {
                Some(f) => Some(size_position(f * input.kelly_fraction, eq, limits, gross)?),
                None => None,
            }
        }
        None => None,
    };
    let (recommended, method) = match kelly {
        Some(k) if k.weight < volatility_target.weight => (k, SizingMethod::FractionalKelly),
        _ => (volatility_target, SizingMethod::VolatilityTarget),
    };
    let quantity = recommended
        .quantity(input.price)
        .ok_or(RiskError::InvalidParameter {
            name: "price",
            reason: "must be greater than 0",
        })?;
    let (max_weight, _) = cap_weight(f64::MAX, limits, gross);
    let stops = atr_stops(input.price, input.atr, input.side, input.stops)?;
    Ok(Recommendation {
        volatility_target,
        kelly,
        recommended,
        method,
        quantity,
        max_size: weight_of(eq, max_weight)?,
        risk_per_trade: (quantity * stops.risk_per_unit).round_dp(SIZE_DECIMALS),
        stops,
    })
}

#[cfg(test)]
mod tests;
