//! Square-root market impact of an order, split into temporary and permanent parts.
//!
//! # The law
//! ```text
//! I = Y * sigma_daily * sqrt(Q / ADV)          (fraction of price; x 1e4 for bps)
//! ```
//!
//! `Q` the order size and `ADV` the average daily volume, both in base units; `sigma_daily`
//! the daily return volatility ([`crate::volatility`]); `Y` a dimensionless constant of order
//! one (default [`ImpactParams::y`] = 1.0). Sources: Almgren, Thum, Hauptmann and Li (2005),
//! "Direct Estimation of Equity Market Impact", *Risk* 18(7) (cost proportional to `sigma`
//! times a power 3/5 of the participation, close to a square root); Tóth, Lempérière, Deremble, de
//! Lataillade, Kockelkoren and Bouchaud (2011), "Anomalous Price Impact and the Critical
//! Nature of Liquidity in Financial Markets", *Physical Review X* 1, 021006 (the square-root
//! law with `Y` of order 1, across markets including futures). The law is measured for
//! metaorders up to roughly a tenth of daily volume; beyond
//! [`ImpactParams::max_calibrated_participation`] the estimate is flagged
//! [`ImpactEstimate::beyond_calibrated_range`] (it is still returned, uncapped).
//!
//! # Temporary vs permanent
//! `I` is the peak move by the order's last fill. After the order, part of it reverts:
//!
//! ```text
//! permanent = phi * I,   temporary = (1 - phi) * I,   phi = 2/3 by default
//! ```
//!
//! `phi = 2/3` is the "fair pricing" prediction for a square-root law (Farmer, Gerig, Lillo
//! and Waelbroeck (2013), "How efficiency shapes market impact", *Quantitative Finance*
//! 13(11)), in line with the partial reversion after completion reported by Bershova and
//! Rakhlin (2013) on buy-side metaorders. It is a parameter
//! ([`ImpactParams::permanent_fraction`]).
//!
//! # Confidence interval
//! A deliberately wide band combining two uncertainties at their ends:
//! - the model: `Y` in `[Y(1 - b), Y(1 + b)]`, `b` = [`ImpactParams::y_band`] = 0.5 (the
//!   spread of `Y` reported across studies and assets);
//! - the estimate of `sigma` from `n` returns: the large-sample standard error of a sample
//!   standard deviation is `sigma / sqrt(2(n - 1))` (normal returns), so
//!   `sigma(1 -+ z / sqrt(2(n - 1)))` with `z` = [`ImpactParams::z`] = 1.96 (lower end
//!   floored at 0; with `n < 2` the band is `[0, 2 sigma]`).
//!
//! `low = Y(1 - b) sigma_low sqrt(Q/ADV)`, `high = Y(1 + b) sigma_high sqrt(Q/ADV)`. Crypto
//! returns are fat-tailed, so the `sigma` part understates the true uncertainty; the `Y` band
//! dominates anyway.

use serde::{Deserialize, Serialize};

use crate::error::{finite, fraction, non_negative, positive, LiquidityError, Result};

/// What a symbol's candles say about trading it, the input of impact, liquidation and
/// stress computations. Usually built from [`crate::LiquidityMetrics::conditions`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarketConditions {
    /// Average daily volume in base units (may be 0: nothing trades).
    pub adv: f64,
    /// Daily return volatility, a fraction.
    pub sigma_daily: f64,
    /// Estimated proportional bid-ask spread, a fraction.
    pub spread: f64,
    /// Returns behind `sigma_daily` (for its confidence band).
    pub sigma_observations: usize,
}

impl MarketConditions {
    /// Checks that every field is finite and `>= 0`.
    ///
    /// # Errors
    /// [`LiquidityError::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        non_negative("adv", self.adv)?;
        non_negative("sigma_daily", self.sigma_daily)?;
        non_negative("spread", self.spread)?;
        Ok(())
    }
}

/// Parameters of the square-root law. `Default` gives the documented values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImpactParams {
    /// The constant `Y` (default 1.0).
    pub y: f64,
    /// Relative model band on `Y` for the interval (default 0.5, i.e. +-50 %).
    pub y_band: f64,
    /// Share of the peak impact that is permanent, `phi` (default 2/3).
    pub permanent_fraction: f64,
    /// Normal quantile for the `sigma` band (default 1.96, two-sided 95 %).
    pub z: f64,
    /// Participation `Q/ADV` beyond which the law is extrapolated (default 0.1).
    pub max_calibrated_participation: f64,
}

impl Default for ImpactParams {
    fn default() -> Self {
        Self {
            y: 1.0,
            y_band: 0.5,
            permanent_fraction: 2.0 / 3.0,
            z: 1.96,
            max_calibrated_participation: 0.1,
        }
    }
}

impl ImpactParams {
    /// Checks the parameters: `y > 0`, `0 <= y_band < 1`, `0 <= permanent_fraction <= 1`,
    /// `z >= 0`, `max_calibrated_participation > 0`.
    ///
    /// # Errors
    /// [`LiquidityError::InvalidInput`] naming the parameter.
    pub fn validate(&self) -> Result<()> {
        positive("y", self.y)?;
        if !(0.0..1.0).contains(&self.y_band) {
            return Err(LiquidityError::InvalidInput {
                field: "y_band",
                value: self.y_band,
                reason: "must lie in [0, 1)",
            });
        }
        if !(0.0..=1.0).contains(&self.permanent_fraction) {
            return Err(LiquidityError::InvalidInput {
                field: "permanent_fraction",
                value: self.permanent_fraction,
                reason: "must lie in [0, 1]",
            });
        }
        non_negative("z", self.z)?;
        positive(
            "max_calibrated_participation",
            self.max_calibrated_participation,
        )?;
        Ok(())
    }
}

/// Side of an order; impact is symmetric, the side only signs the price move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// A buy pushes the price up.
    Buy,
    /// A sell pushes the price down.
    Sell,
}

/// An interval in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BpsInterval {
    /// Lower end, bps.
    pub low_bps: f64,
    /// Upper end, bps.
    pub high_bps: f64,
}

/// The square-root impact of one order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImpactEstimate {
    /// `Q / ADV`.
    pub participation: f64,
    /// Peak impact `I`, bps (always `>= 0`).
    pub total_bps: f64,
    /// Reverting part `(1 - phi) I`, bps.
    pub temporary_bps: f64,
    /// Lasting part `phi I`, bps.
    pub permanent_bps: f64,
    /// Band around `total_bps` (see the module docs).
    pub confidence_interval: BpsInterval,
    /// `participation` exceeds the calibrated range: an extrapolation.
    pub beyond_calibrated_range: bool,
}

impl ImpactEstimate {
    /// The expected peak price move in bps, positive for a buy, negative for a sell.
    #[must_use]
    pub fn signed_move_bps(&self, side: Side) -> f64 {
        match side {
            Side::Buy => self.total_bps,
            Side::Sell => -self.total_bps,
        }
    }
}

/// The square-root impact of an order of `quantity` base units.
///
/// # Errors
/// [`LiquidityError::InvalidInput`] for a quantity that is not positive and finite, or bad
/// conditions/parameters; [`LiquidityError::ZeroAdv`] when `conditions.adv` is 0;
/// [`LiquidityError::NonFinite`] on overflow.
///
/// # Examples
/// ```
/// use alphapulse_liquidity::{square_root_impact, ImpactParams, MarketConditions};
///
/// // sigma 2 %/day, an order of 1 % of ADV: 1.0 x 0.02 x sqrt(0.01) = 0.002 = 20 bps.
/// let market = MarketConditions { adv: 100_000.0, sigma_daily: 0.02, spread: 0.001, sigma_observations: 29 };
/// let impact = square_root_impact(1_000.0, &market, &ImpactParams::default()).unwrap();
/// assert!((impact.total_bps - 20.0).abs() < 1e-9);
/// ```
pub fn square_root_impact(
    quantity: f64,
    conditions: &MarketConditions,
    params: &ImpactParams,
) -> Result<ImpactEstimate> {
    positive("quantity", quantity)?;
    conditions.validate()?;
    params.validate()?;
    if conditions.adv <= 0.0 {
        return Err(LiquidityError::ZeroAdv);
    }
    let participation = finite("participation", quantity / conditions.adv)?;
    let root = participation.sqrt();
    let sigma = conditions.sigma_daily;
    let total = params.y * sigma * root * 1e4;
    let band = if conditions.sigma_observations >= 2 {
        (params.z / (2.0 * (conditions.sigma_observations as f64 - 1.0)).sqrt()).min(1.0)
    } else {
        1.0
    };
    let low = params.y * (1.0 - params.y_band) * sigma * (1.0 - band) * root * 1e4;
    let high = params.y * (1.0 + params.y_band) * sigma * (1.0 + band) * root * 1e4;
    let total = finite("impact", total)?;
    Ok(ImpactEstimate {
        participation,
        total_bps: total,
        temporary_bps: (1.0 - params.permanent_fraction) * total,
        permanent_bps: params.permanent_fraction * total,
        confidence_interval: BpsInterval {
            low_bps: low,
            high_bps: finite("impact", high)?,
        },
        beyond_calibrated_range: participation > params.max_calibrated_participation,
    })
}

/// `rate` validated as a participation rate in `(0, 1]`.
pub(crate) fn participation_rate(rate: f64) -> Result<f64> {
    fraction("participation_rate", rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn market(adv: f64, sigma: f64, n: usize) -> MarketConditions {
        MarketConditions {
            adv,
            sigma_daily: sigma,
            spread: 0.001,
            sigma_observations: n,
        }
    }

    #[test]
    fn square_root_impact_by_hand() {
        // sigma = 2 %/day, Q = 1 000, ADV = 100 000 -> Q/ADV = 0.01, sqrt = 0.1
        //   I = 1.0 x 0.02 x 0.1 = 0.002 = 20 bps
        //   permanent = 2/3 x 20 = 13.333 bps, temporary = 6.667 bps
        // Interval with n = 29 returns: sigma band = 1.96 / sqrt(2 x 28) = 0.2619160
        //   low  = 0.5 x 0.02 x (1 - 0.2619160) x 0.1 x 1e4 = 7.380840 bps
        //   high = 1.5 x 0.02 x (1 + 0.2619160) x 0.1 x 1e4 = 37.857480 bps
        let i = square_root_impact(
            1_000.0,
            &market(100_000.0, 0.02, 29),
            &ImpactParams::default(),
        )
        .unwrap();
        assert!((i.participation - 0.01).abs() < 1e-15);
        assert!((i.total_bps - 20.0).abs() < 1e-9);
        assert!((i.permanent_bps - 40.0 / 3.0).abs() < 1e-9);
        assert!((i.temporary_bps - 20.0 / 3.0).abs() < 1e-9);
        let band = 1.96 / 56f64.sqrt();
        assert!((band - 0.261_916_0).abs() < 1e-7);
        assert!((i.confidence_interval.low_bps - 10.0 * (1.0 - band)).abs() < 1e-9);
        assert!((i.confidence_interval.high_bps - 30.0 * (1.0 + band)).abs() < 1e-9);
        assert!(!i.beyond_calibrated_range);
        assert_eq!(i.signed_move_bps(Side::Sell), -i.total_bps);
        assert_eq!(i.signed_move_bps(Side::Buy), i.total_bps);
    }

    #[test]
    fn quadrupling_the_order_doubles_the_impact() {
        let m = market(100_000.0, 0.03, 30);
        let p = ImpactParams::default();
        let small = square_root_impact(2_500.0, &m, &p).unwrap();
        let large = square_root_impact(10_000.0, &m, &p).unwrap();
        assert!((large.total_bps - 2.0 * small.total_bps).abs() < 1e-9);
        // 10 % of ADV is the edge of the calibrated range, not beyond it.
        assert!(!large.beyond_calibrated_range);
        let huge = square_root_impact(50_000.0, &m, &p).unwrap();
        assert!(huge.beyond_calibrated_range);
    }

    #[test]
    fn invalid_inputs_are_rejected() {
        let m = market(100_000.0, 0.02, 29);
        let p = ImpactParams::default();
        for q in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                square_root_impact(q, &m, &p),
                Err(LiquidityError::InvalidInput {
                    field: "quantity",
                    ..
                })
            ));
        }
        assert_eq!(
            square_root_impact(1.0, &market(0.0, 0.02, 29), &p),
            Err(LiquidityError::ZeroAdv)
        );
        assert!(square_root_impact(1.0, &market(-1.0, 0.02, 29), &p).is_err());
        let bad = ImpactParams { y_band: 1.0, ..p };
        assert!(square_root_impact(1.0, &m, &bad).is_err());
        let bad = ImpactParams {
            permanent_fraction: 1.5,
            ..p
        };
        assert!(square_root_impact(1.0, &m, &bad).is_err());
    }

    #[test]
    fn few_observations_widen_the_sigma_band_to_its_limit() {
        let i = square_root_impact(
            1_000.0,
            &market(100_000.0, 0.02, 1),
            &ImpactParams::default(),
        )
        .unwrap();
        assert_eq!(i.confidence_interval.low_bps, 0.0);
        assert!((i.confidence_interval.high_bps - 60.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn impact_is_monotone_in_size(
            q1 in 1e-6f64..1e9,
            factor in 1.0f64..1e3,
            adv in 1e-3f64..1e9,
            sigma in 0.0f64..0.5,
            n in 0usize..400,
        ) {
            let m = market(adv, sigma, n);
            let p = ImpactParams::default();
            let a = square_root_impact(q1, &m, &p).unwrap();
            let b = square_root_impact(q1 * factor, &m, &p).unwrap();
            prop_assert!(a.total_bps <= b.total_bps);
            prop_assert!(a.total_bps >= 0.0);
            prop_assert!(a.confidence_interval.low_bps <= a.total_bps + 1e-9);
            prop_assert!(a.total_bps <= a.confidence_interval.high_bps + 1e-9);
            prop_assert!((a.temporary_bps + a.permanent_bps - a.total_bps).abs() <= 1e-9 * a.total_bps.max(1.0));
        }
    }
}
