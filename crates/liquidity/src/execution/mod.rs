//! Choosing an execution strategy, its horizon and its slices.
//!
//! Inputs: the order size `Q`, the symbol's [`MarketConditions`], an [`Urgency`] and a maximum
//! impact budget (a fraction of price, e.g. `0.01` = 100 bps, the original's default).
//!
//! # Horizon
//! Each urgency has a [`UrgencyProfile`]: a maximum participation `rate` (share of the day's
//! volume we may take; defaults low 5 %, normal 10 %, high 25 %), a minimum horizon and a slice
//! interval.
//!
//! ```text
//! p          = Q / ADV
//! I(Q)       = Y sigma sqrt(p)                       (square-root law, crate::impact)
//! days_rate  = p / rate
//! days_cost  = (I(Q) / budget)^2   when I(Q) > budget, else 0
//! horizon    = max(days_rate, days_cost, min_horizon)   capped at 365 days
//! ```
//!
//! `days_cost` splits the order into daily metaorders `Q / days` each of which fits the budget
//! under the square-root law, assuming each day's impact has relaxed by the next day (a
//! modelling assumption: days are treated as separate metaorders). With `high` urgency the budget does *not*
//! lengthen the horizon (urgency is accepting cost to cut timing risk); the plan then reports
//! `within_budget = false`.
//!
//! # Strategy
//! In order:
//! 1. `high` urgency -> **ImplementationShortfall**: a front-loaded schedule trading expected
//!    impact against price risk (Almgren & Chriss (2001), "Optimal execution of portfolio
//!    transactions", *Journal of Risk* 3(2)).
//! 2. a horizon longer than one day -> **VWAP**: follow each day's volume curve at the
//!    participation rate, so the footprint stays a constant share of the market.
//! 3. `low` urgency and a spread of at least [`ExecutionParams::wide_spread_bps`] (25 bps) ->
//!    **Iceberg**: rest passive limit orders with hidden size, earning rather than paying the
//!    half-spread, which is then the larger cost.
//! 4. `Q / ADV >=` [`ExecutionParams::vwap_participation`] (1 %) -> **VWAP**.
//! 5. otherwise -> **TWAP**: a small order; equal slices over the horizon are enough.
//!
//! Slices: `ceil(horizon_minutes / slice_minutes)`, at least 1.

use serde::{Deserialize, Serialize};

use crate::error::{fraction, positive, LiquidityError, Result};
use crate::impact::{square_root_impact, ImpactParams, MarketConditions};

/// Longest horizon a plan proposes, in days.
pub const MAX_HORIZON_DAYS: f64 = 365.0;
const MINUTES_PER_DAY: f64 = 1_440.0;

/// How urgently the order must be done (`low`, `normal`, `high` as text, through the `strum`
/// derives; parsing anything else is [`LiquidityError::UnknownUrgency`]).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = LiquidityError,
    parse_err_fn = unknown_urgency
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Urgency {
    /// Cost matters more than time.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Time matters more than cost.
    High,
}

impl Urgency {
    /// `"low"`, `"normal"` or `"high"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The error of parsing an [`Urgency`] (the `strum` derive's `parse_err_fn`).
fn unknown_urgency(s: &str) -> LiquidityError {
    LiquidityError::UnknownUrgency(s.to_owned())
}

/// An execution algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExecutionStrategy {
    /// Time-weighted: equal slices at regular intervals.
    #[serde(rename = "TWAP")]
    Twap,
    /// Volume-weighted: slices in proportion to the market's volume curve.
    #[serde(rename = "VWAP")]
    Vwap,
    /// Passive limit orders showing only part of their size.
    Iceberg,
    /// Front-loaded, minimising cost plus risk against the arrival price.
    ImplementationShortfall,
}

impl ExecutionStrategy {
    /// The name used in the API: `TWAP`, `VWAP`, `Iceberg`, `ImplementationShortfall`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Twap => "TWAP",
            Self::Vwap => "VWAP",
            Self::Iceberg => "Iceberg",
            Self::ImplementationShortfall => "ImplementationShortfall",
        }
    }
}

/// Limits attached to one urgency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UrgencyProfile {
    /// Maximum share of daily volume to take, in `(0, 1]`.
    pub max_participation: f64,
    /// Shortest horizon proposed, minutes.
    pub min_horizon_minutes: u32,
    /// Interval between slices, minutes (at least 1).
    pub slice_minutes: u32,
}

/// Parameters of [`plan_execution`]. `Default` gives the documented values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExecutionParams {
    /// `low`: 5 % of volume, at least 4 h, a slice every 15 min.
    pub low: UrgencyProfile,
    /// `normal`: 10 % of volume, at least 1 h, a slice every 5 min.
    pub normal: UrgencyProfile,
    /// `high`: 25 % of volume, at least 15 min, a slice every minute.
    pub high: UrgencyProfile,
    /// `Q / ADV` from which a one-day order uses VWAP rather than TWAP (default 0.01).
    pub vwap_participation: f64,
    /// Spread (bps) from which a low-urgency order rests passively as an Iceberg (default 25).
    pub wide_spread_bps: f64,
    /// Square-root law parameters.
    pub impact: ImpactParams,
}

impl Default for ExecutionParams {
    fn default() -> Self {
        Self {
            low: UrgencyProfile {
                max_participation: 0.05,
                min_horizon_minutes: 240,
                slice_minutes: 15,
            },
            normal: UrgencyProfile {
                max_participation: 0.10,
                min_horizon_minutes: 60,
                slice_minutes: 5,
            },
            high: UrgencyProfile {
                max_participation: 0.25,
                min_horizon_minutes: 15,
                slice_minutes: 1,
            },
            vwap_participation: 0.01,
            wide_spread_bps: 25.0,
            impact: ImpactParams::default(),
        }
    }
}

impl ExecutionParams {
    /// The profile of `urgency`.
    #[must_use]
    pub fn profile(&self, urgency: Urgency) -> UrgencyProfile {
        match urgency {
            Urgency::Low => self.low,
            Urgency::Normal => self.normal,
            Urgency::High => self.high,
        }
    }
}

/// A proposed execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionPlan {
    /// Chosen algorithm.
    pub strategy: ExecutionStrategy,
    /// Urgency asked for.
    pub urgency: Urgency,
    /// Number of child orders.
    pub slices: u64,
    /// Horizon in minutes.
    pub horizon_minutes: u64,
    /// Horizon in days (`horizon_minutes / 1440`).
    pub horizon_days: f64,
    /// Order size over ADV, `Q / ADV`.
    pub order_to_adv: f64,
    /// Share of the market's volume taken over the horizon, `(Q / ADV) / horizon_days`
    /// (intraday volume taken as uniform).
    pub participation_rate: f64,
    /// Square-root impact of each day's part of the order (the whole order within a day), bps.
    pub expected_impact_bps: f64,
    /// The impact budget, bps.
    pub max_impact_bps: f64,
    /// `expected_impact_bps <= max_impact_bps`.
    pub within_budget: bool,
    /// Why this plan, in one or two sentences.
    pub rationale: String,
}

/// Plans the execution of `quantity` base units.
///
/// # Errors
/// [`LiquidityError::InvalidInput`] for a quantity that is not positive, a `max_impact` outside
/// `(0, 1]` or bad parameters; [`LiquidityError::ZeroAdv`] when nothing trades.
pub fn plan_execution(
    quantity: f64,
    conditions: &MarketConditions,
    urgency: Urgency,
    max_impact: f64,
    params: &ExecutionParams,
) -> Result<ExecutionPlan> {
    fraction("max_impact", max_impact)?;
    let profile = params.profile(urgency);
    let rate = fraction("max_participation", profile.max_participation)?;
    positive("slice_minutes", f64::from(profile.slice_minutes))?;
    let full = square_root_impact(quantity, conditions, &params.impact)?;
    let p = full.participation;
    let budget_bps = max_impact * 1e4;

    let days_rate = p / rate;
    let days_cost = if full.total_bps > budget_bps && urgency != Urgency::High {
        (full.total_bps / budget_bps).powi(2)
    } else {
        0.0
    };
    let min_days = f64::from(profile.min_horizon_minutes) / MINUTES_PER_DAY;
    let horizon_days = days_rate.max(days_cost).max(min_days);
    let capped = horizon_days > MAX_HORIZON_DAYS;
    let horizon_days = horizon_days.min(MAX_HORIZON_DAYS);
    // Rounded up to whole minutes (ignoring float noise of a micro-minute); bounded by
    // MAX_HORIZON_DAYS, so the cast cannot overflow.
    let horizon_minutes = (horizon_days * MINUTES_PER_DAY - 1e-6).ceil().max(1.0) as u64;
    let slices = horizon_minutes
        .div_ceil(u64::from(profile.slice_minutes))
        .max(1);
    let daily_share = p / horizon_days.max(1.0);
    let expected_impact_bps = params.impact.y * conditions.sigma_daily * daily_share.sqrt() * 1e4;
    let within_budget = expected_impact_bps <= budget_bps * (1.0 + 1e-12);
    let spread_bps = conditions.spread * 1e4;

    let (strategy, why) = if urgency == Urgency::High {
        (
            ExecutionStrategy::ImplementationShortfall,
            "urgency is high: front-load the order (Almgren-Chriss) to cut timing risk",
        )
    } else if horizon_days > 1.0 {
        (
            ExecutionStrategy::Vwap,
            "the order needs more than one day: follow each day's volume curve at a steady \
             participation",
        )
    } else if urgency == Urgency::Low && spread_bps >= params.wide_spread_bps {
        (
            ExecutionStrategy::Iceberg,
            "urgency is low and the spread is wide: rest passive hidden-size orders to earn \
             the half-spread instead of paying it",
        )
    } else if p >= params.vwap_participation {
        (
            ExecutionStrategy::Vwap,
            "the order is a noticeable share of daily volume: trade with the volume curve",
        )
    } else {
        (
            ExecutionStrategy::Twap,
            "the order is small against daily volume: equal slices over the horizon suffice",
        )
    };

    let participation_rate = p / horizon_days;
    let mut rationale = format!(
        "{}: {why}. Order = {:.2}% of ADV ({:.1} bps spread); {slices} slices over {} at \
         {:.1}% of volume; expected impact {expected_impact_bps:.1} bps vs budget \
         {budget_bps:.1} bps.",
        strategy.as_str(),
        p * 100.0,
        spread_bps,
        describe_minutes(horizon_minutes),
        participation_rate * 100.0,
    );
    if days_cost > days_rate && days_cost > min_days {
        rationale.push_str(" The impact budget, not the participation limit, sets the horizon.");
    }
    if !within_budget && capped {
        rationale.push_str(" Over budget: the horizon is capped at 365 days.");
    } else if !within_budget {
        rationale.push_str(" Over budget: high urgency accepts the cost.");
    }
    if full.beyond_calibrated_range {
        rationale.push_str(" The square-root law is extrapolated at this size.");
    }
    Ok(ExecutionPlan {
        strategy,
        urgency,
        slices,
        horizon_minutes,
        horizon_days: horizon_minutes as f64 / MINUTES_PER_DAY,
        order_to_adv: p,
        participation_rate,
        expected_impact_bps,
        max_impact_bps: budget_bps,
        within_budget,
        rationale,
    })
}

/// `90` -> `"1h 30m"`, `2880` -> `"2.0 days"`.
fn describe_minutes(minutes: u64) -> String {
    if minutes >= 1_440 {
        format!("{:.1} days", minutes as f64 / MINUTES_PER_DAY)
    } else if minutes >= 60 {
        format!("{}h {:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

#[cfg(test)]
mod tests;
