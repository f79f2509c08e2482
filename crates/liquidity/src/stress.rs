//! Stress scenarios: the cost of liquidating a book after a shock.
//!
//! A scenario shocks each holding's price and its symbol's market conditions:
//!
//! ```text
//! P'      = P (1 + price_shock)
//! ADV'    = ADV * volume_multiplier
//! sigma'  = sigma * volatility_multiplier
//! spread' = spread * spread_multiplier
//! ```
//!
//! | scenario           | price | ADV    | sigma  | spread |
//! |--------------------|-------|--------|--------|--------|
//! | `market_crash`     | -30 % | x 0.8  | x 2.5  | x 3    |
//! | `flash_crash`      | -20 % | x 0.3  | x 4    | x 10   |
//! | `liquidity_crisis` | -10 % | x 0.25 | x 1.5  | x 5    |
//!
//! The sizes are policy choices, loosely sized on crypto episodes (12 March 2020, when BTC
//! lost about half its value within a day; the May 2021 and 2022 LUNA/FTX sell-offs; the
//! 2010 equity flash crash for order books emptying within minutes), not estimates. In a crash
//! the market's volume rises, but the share a forced seller can take falls as everyone sells,
//! so usable ADV is cut; in a flash crash the book empties (spread x 10, usable volume x 0.3);
//! in a liquidity crisis prices move less but volume dries up. [`StressScenario`] has public
//! fields for custom scenarios.
//!
//! Per holding, selling the whole position into the stressed market costs
//!
//! ```text
//! cost_bps = spread'_bps / 2 + Y sigma' sqrt(Q / ADV') x 1e4      capped at 10 000 bps
//! liquidation_cost = Q P' cost_bps / 1e4
//! market_loss = Q (P - P'),     total_loss = market_loss + liquidation_cost
//! days = Q / (rate ADV')
//! ```
//!
//! (the cap: selling cannot cost more than the position is worth). A holding whose stressed
//! ADV is 0 has no cost or days (`None`) and is listed in `unpriced_symbols`; the totals add
//! up the others.

use serde::{Deserialize, Serialize};

use crate::book::Holding;
use crate::error::{finite, non_negative, positive, LiquidityError, Result};
use crate::impact::{square_root_impact, MarketConditions};
use crate::liquidation::{days_to_liquidate, LiquidityParams};

/// The preset scenarios (`market_crash`, `flash_crash`, `liquidity_crisis` as text, through
/// the `strum` derives; parsing anything else is [`LiquidityError::UnknownScenario`]).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
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
    parse_err_fn = unknown_scenario
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScenarioKind {
    /// Broad sell-off.
    MarketCrash,
    /// Order books empty for minutes.
    FlashCrash,
    /// Volume dries up.
    LiquidityCrisis,
}

impl ScenarioKind {
    /// Every preset.
    pub const ALL: [Self; 3] = [Self::MarketCrash, Self::FlashCrash, Self::LiquidityCrisis];

    /// `market_crash`, `flash_crash` or `liquidity_crisis`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The preset's shocks (see the module table).
    #[must_use]
    pub fn scenario(self) -> StressScenario {
        let (price_shock, volume, volatility, spread) = match self {
            Self::MarketCrash => (-0.30, 0.8, 2.5, 3.0),
            Self::FlashCrash => (-0.20, 0.3, 4.0, 10.0),
            Self::LiquidityCrisis => (-0.10, 0.25, 1.5, 5.0),
        };
        StressScenario {
            name: self.as_str().to_owned(),
            price_shock,
            volume_multiplier: volume,
            volatility_multiplier: volatility,
            spread_multiplier: spread,
        }
    }
}

/// The error of parsing a [`ScenarioKind`] (the `strum` derive's `parse_err_fn`).
fn unknown_scenario(s: &str) -> LiquidityError {
    LiquidityError::UnknownScenario(s.to_owned())
}

/// Shocks applied to prices and market conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StressScenario {
    /// Name reported with the result.
    pub name: String,
    /// Relative price change, `> -1` (e.g. `-0.30`).
    pub price_shock: f64,
    /// Multiplier on ADV, `>= 0`.
    pub volume_multiplier: f64,
    /// Multiplier on daily volatility, `>= 0`.
    pub volatility_multiplier: f64,
    /// Multiplier on the spread, `>= 0`.
    pub spread_multiplier: f64,
}

impl StressScenario {
    /// Checks the shocks: finite, `price_shock > -1`, multipliers `>= 0`.
    ///
    /// # Errors
    /// [`LiquidityError::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.price_shock.is_finite() && self.price_shock > -1.0) {
            return Err(LiquidityError::InvalidInput {
                field: "price_shock",
                value: self.price_shock,
                reason: "must be a finite number > -1",
            });
        }
        non_negative("volume_multiplier", self.volume_multiplier)?;
        non_negative("volatility_multiplier", self.volatility_multiplier)?;
        non_negative("spread_multiplier", self.spread_multiplier)?;
        Ok(())
    }

    /// `conditions` after the shock (the observation count is kept).
    #[must_use]
    pub fn apply(&self, conditions: &MarketConditions) -> MarketConditions {
        MarketConditions {
            adv: conditions.adv * self.volume_multiplier,
            sigma_daily: conditions.sigma_daily * self.volatility_multiplier,
            spread: conditions.spread * self.spread_multiplier,
            sigma_observations: conditions.sigma_observations,
        }
    }
}

/// One holding under a scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StressedHolding {
    /// Instrument.
    pub symbol: String,
    /// Size, base units.
    pub quantity: f64,
    /// Price before the shock.
    pub price: f64,
    /// Price after the shock.
    pub stressed_price: f64,
    /// `Q P`.
    pub value_before: f64,
    /// `Q P'`.
    pub value_after: f64,
    /// `Q (P - P')` (negative for a price rise).
    pub market_loss: f64,
    /// Days to sell at the participation rate of the stressed ADV; `None` if nothing trades.
    pub days_to_liquidate: Option<f64>,
    /// Half stressed spread plus stressed impact, bps (capped at 10 000); `None` if nothing
    /// trades.
    pub liquidation_cost_bps: Option<f64>,
    /// `value_after x liquidation_cost_bps / 1e4`; `None` if nothing trades.
    pub liquidation_cost: Option<f64>,
    /// `market_loss + liquidation_cost`; `None` if nothing trades.
    pub total_loss: Option<f64>,
    /// The cost hit the 10 000 bps cap.
    pub capped: bool,
}

/// A book under a scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StressResult {
    /// The scenario applied.
    pub scenario: StressScenario,
    /// Holding by holding, in input order.
    pub holdings: Vec<StressedHolding>,
    /// Book value before the shock.
    pub value_before: f64,
    /// Book value after the shock.
    pub value_after: f64,
    /// Sum of market losses.
    pub market_loss: f64,
    /// Sum of the liquidation costs of the holdings that trade.
    pub liquidation_cost: f64,
    /// `market_loss + liquidation_cost`.
    pub total_loss: f64,
    /// Days until the last holding is sold; `None` if one cannot be sold.
    pub days_to_liquidate: Option<f64>,
    /// Holdings that cannot be sold under the scenario.
    pub unpriced_symbols: Vec<String>,
}

const MAX_COST_BPS: f64 = 10_000.0;

/// The liquidation cost of `holdings` under `scenario`.
///
/// # Errors
/// [`LiquidityError::InvalidInput`] for a bad scenario, a holding with a size or price that is
/// not positive, bad conditions or parameters.
pub fn stress_test(
    holdings: &[Holding],
    scenario: &StressScenario,
    params: &LiquidityParams,
) -> Result<StressResult> {
    scenario.validate()?;
    let mut out = Vec::with_capacity(holdings.len());
    for h in holdings {
        positive("quantity", h.quantity)?;
        positive("price", h.price)?;
        h.conditions.validate()?;
        let stressed = scenario.apply(&h.conditions);
        let stressed_price = h.price * (1.0 + scenario.price_shock);
        let value_before = finite("value", h.quantity * h.price)?;
        let value_after = finite("value", h.quantity * stressed_price)?;
        let days = days_to_liquidate(h.quantity, stressed.adv, params.participation_rate)?;
        let cost_bps = match square_root_impact(h.quantity, &stressed, &params.impact) {
            Ok(i) => Some(finite(
                "stress cost",
                stressed.spread * 1e4 / 2.0 + i.total_bps,
            )?),
            Err(LiquidityError::ZeroAdv) => None,
            Err(e) => return Err(e),
        };
        let capped = cost_bps.is_some_and(|c| c > MAX_COST_BPS);
        let cost_bps = cost_bps.map(|c| c.min(MAX_COST_BPS));
        let cost = cost_bps.map(|c| value_after * c / 1e4);
        let market_loss = value_before - value_after;
        out.push(StressedHolding {
            symbol: h.symbol.clone(),
            quantity: h.quantity,
            price: h.price,
            stressed_price,
            value_before,
            value_after,
            market_loss,
            days_to_liquidate: days,
            liquidation_cost_bps: cost_bps,
            liquidation_cost: cost,
            total_loss: cost.map(|c| market_loss + c),
            capped,
        });
    }
    let sum = |f: fn(&StressedHolding) -> f64| out.iter().map(f).sum::<f64>();
    let value_before = finite("value", sum(|h| h.value_before))?;
    let value_after = finite("value", sum(|h| h.value_after))?;
    let market_loss = sum(|h| h.market_loss);
    let liquidation_cost = finite("stress cost", sum(|h| h.liquidation_cost.unwrap_or(0.0)))?;
    let days_to_liquidate = out
        .iter()
        .map(|h| h.days_to_liquidate)
        .try_fold(0.0, |acc: f64, d| d.map(|d| acc.max(d)));
    let unpriced_symbols = out
        .iter()
        .filter(|h| h.liquidation_cost.is_none())
        .map(|h| h.symbol.clone())
        .collect();
    Ok(StressResult {
        scenario: scenario.clone(),
        holdings: out,
        value_before,
        value_after,
        market_loss,
        liquidation_cost,
        total_loss: market_loss + liquidation_cost,
        days_to_liquidate,
        unpriced_symbols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::tests::holding;
    use proptest::prelude::*;

    #[test]
    fn market_crash_by_hand() {
        // Q = 100, P = 100, ADV = 1 000, sigma = 3 %, spread = 10 bps; market_crash:
        //   P' = 70; value 10 000 -> 7 000; market loss 3 000
        //   ADV' = 800, sigma' = 7.5 %, spread' = 30 bps -> half spread 15 bps
        //   impact = 0.075 x sqrt(100 / 800) = 0.075 x 0.3535534 = 265.165 bps
        //   cost = 280.165 bps x 7 000 = 196.116; total loss = 3 196.116
        //   days = 100 / (0.1 x 800) = 1.25
        let r = stress_test(
            &[holding("A", 100.0, 100.0, 1_000.0)],
            &ScenarioKind::MarketCrash.scenario(),
            &LiquidityParams::default(),
        )
        .unwrap();
        let h = &r.holdings[0];
        let bps = 15.0 + 750.0 * 0.125f64.sqrt();
        assert!((h.stressed_price - 70.0).abs() < 1e-12);
        assert!((h.market_loss - 3_000.0).abs() < 1e-9);
        assert!((h.liquidation_cost_bps.unwrap() - bps).abs() < 1e-9);
        assert!((h.liquidation_cost.unwrap() - 7_000.0 * bps / 1e4).abs() < 1e-9);
        assert!((h.days_to_liquidate.unwrap() - 1.25).abs() < 1e-12);
        assert!(!h.capped);
        assert!((r.total_loss - (3_000.0 + 0.7 * bps)).abs() < 1e-9);
        assert_eq!(r.scenario.name, "market_crash");
        assert!(r.unpriced_symbols.is_empty());
    }

    #[test]
    fn scenarios_rank_as_designed_for_an_illiquid_holding() {
        // A holding of 50 % of ADV: the flash crash has the costliest exit.
        let book = [holding("A", 500.0, 100.0, 1_000.0)];
        let p = LiquidityParams::default();
        let cost = |k: ScenarioKind| {
            stress_test(&book, &k.scenario(), &p).unwrap().holdings[0]
                .liquidation_cost_bps
                .unwrap()
        };
        assert!(cost(ScenarioKind::FlashCrash) > cost(ScenarioKind::MarketCrash));
        assert!(cost(ScenarioKind::FlashCrash) > cost(ScenarioKind::LiquidityCrisis));
    }

    #[test]
    fn cost_is_capped_and_frozen_markets_are_unpriced() {
        let p = LiquidityParams::default();
        let huge = stress_test(
            &[holding("A", 1e9, 1.0, 1.0)],
            &ScenarioKind::FlashCrash.scenario(),
            &p,
        )
        .unwrap();
        assert!(huge.holdings[0].capped);
        assert_eq!(huge.holdings[0].liquidation_cost_bps, Some(10_000.0));
        assert!((huge.liquidation_cost - huge.value_after).abs() < 1e-6);
        let frozen = StressScenario {
            volume_multiplier: 0.0,
            ..ScenarioKind::LiquidityCrisis.scenario()
        };
        let r = stress_test(
            &[holding("A", 1.0, 1.0, 1.0), holding("B", 1.0, 2.0, 1.0)],
            &frozen,
            &p,
        )
        .unwrap();
        assert_eq!(r.unpriced_symbols, vec!["A".to_owned(), "B".to_owned()]);
        assert_eq!(r.days_to_liquidate, None);
        assert_eq!(r.liquidation_cost, 0.0);
        assert!((r.market_loss - 0.3).abs() < 1e-12);
    }

    #[test]
    fn names_and_validation() {
        for k in ScenarioKind::ALL {
            assert_eq!(k.as_str().parse::<ScenarioKind>(), Ok(k));
            assert_eq!(k.scenario().validate(), Ok(()));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.as_str().to_owned())
            );
        }
        assert_eq!(
            "meteor".parse::<ScenarioKind>(),
            Err(LiquidityError::UnknownScenario("meteor".to_owned()))
        );
        // The text forms come from the strum derives: the same names everywhere, and the
        // parse error names every valid one.
        assert_eq!(
            <ScenarioKind as strum::VariantNames>::VARIANTS,
            ScenarioKind::ALL.map(ScenarioKind::as_str)
        );
        let unknown = "meteor".parse::<ScenarioKind>().unwrap_err().to_string();
        for k in ScenarioKind::ALL {
            assert_eq!(k.to_string(), k.as_str());
            assert!(unknown.contains(k.as_str()), "{unknown}");
        }
        let wipeout = StressScenario {
            price_shock: -1.0,
            ..ScenarioKind::MarketCrash.scenario()
        };
        assert!(wipeout.validate().is_err());
        assert!(stress_test(
            &[holding("A", 0.0, 1.0, 1.0)],
            &ScenarioKind::MarketCrash.scenario(),
            &LiquidityParams::default()
        )
        .is_err());
    }

    proptest! {
        #[test]
        fn stress_costs_are_bounded(
            q in 1e-6f64..1e9, price in 1e-4f64..1e6, adv in 0.0f64..1e9,
            kind in prop_oneof![Just(ScenarioKind::MarketCrash), Just(ScenarioKind::FlashCrash), Just(ScenarioKind::LiquidityCrisis)],
        ) {
            let r = stress_test(&[holding("A", q, price, adv)], &kind.scenario(), &LiquidityParams::default()).unwrap();
            prop_assert!(r.liquidation_cost >= 0.0);
            prop_assert!(r.liquidation_cost <= r.value_after * (1.0 + 1e-12));
            prop_assert!(r.total_loss.is_finite());
        }
    }
}
