//! The liquidity of a book of holdings.
//!
//! Each holding is assessed on its own ([`crate::assess_position`]); the holdings are sold in
//! parallel (their volumes are independent), so:
//!
//! ```text
//! days_book          = max_i days_i                       (None if any holding is None)
//! value_weighted_days = sum_i (v_i / V) days_i            (None if any holding is None)
//! score_book         = sum_i (v_i / V) score_i            (v_i = Q_i P_i, V = sum v_i)
//! expected_cost      = sum_i cost_i over the holdings that trade
//! ```
//!
//! Holdings with no traded volume are listed in `illiquid_symbols` and left out of
//! `expected_cost`. An empty book takes 0 days and scores 1. Sizes are positive: pass the
//! absolute size of a short (the square-root law is symmetric).

use serde::{Deserialize, Serialize};

use crate::error::{finite, Result};
use crate::impact::MarketConditions;
use crate::liquidation::{assess_position, Assessment, LiquidityParams};

/// One holding of a book with the market conditions of its symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holding {
    /// Instrument, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Size in base units, `> 0`.
    pub quantity: f64,
    /// Current price in quote units, `> 0`.
    pub price: f64,
    /// Conditions of the symbol (from its candles).
    pub conditions: MarketConditions,
}

/// The assessment of one holding of a book.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldingLiquidity {
    /// Instrument.
    pub symbol: String,
    /// Its assessment.
    #[serde(flatten)]
    pub assessment: Assessment,
}

/// The liquidity of a book.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookLiquidity {
    /// Holding by holding, in input order.
    pub holdings: Vec<HoldingLiquidity>,
    /// Sum of the holdings' notionals, quote units.
    pub total_value: f64,
    /// Days until the last holding is sold; `None` if one cannot be sold.
    pub days_to_liquidate: Option<f64>,
    /// Value-weighted mean days; `None` if one holding cannot be sold.
    pub value_weighted_days: Option<f64>,
    /// Value-weighted mean liquidity score, in `[0, 1]`.
    pub liquidity_score: f64,
    /// Sum of the expected liquidation costs of the holdings that trade, quote units.
    pub expected_cost: f64,
    /// Holdings with no traded volume.
    pub illiquid_symbols: Vec<String>,
}

/// Assesses every holding of a book and aggregates them.
///
/// # Errors
/// The first holding's error from [`assess_position`] (non-positive size or price...).
pub fn assess_book(holdings: &[Holding], params: &LiquidityParams) -> Result<BookLiquidity> {
    let mut out = Vec::with_capacity(holdings.len());
    for h in holdings {
        out.push(HoldingLiquidity {
            symbol: h.symbol.clone(),
            assessment: assess_position(h.quantity, h.price, &h.conditions, params)?,
        });
    }
    let total_value = finite(
        "total_value",
        out.iter().map(|h| h.assessment.notional).sum(),
    )?;
    let all_days: Option<Vec<f64>> = out.iter().map(|h| h.assessment.days_to_liquidate).collect();
    let weight = |h: &HoldingLiquidity| {
        if total_value > 0.0 {
            h.assessment.notional / total_value
        } else {
            0.0
        }
    };
    let (days, weighted_days, score) = if out.is_empty() {
        (Some(0.0), Some(0.0), 1.0)
    } else {
        let max = all_days
            .as_ref()
            .map(|d| d.iter().copied().fold(0.0, f64::max));
        let weighted = all_days.as_ref().map(|d| {
            out.iter()
                .zip(d)
                .map(|(h, days)| weight(h) * days)
                .sum::<f64>()
        });
        let score = out
            .iter()
            .map(|h| weight(h) * h.assessment.liquidity_score)
            .sum::<f64>()
            .clamp(0.0, 1.0);
        (max, weighted, score)
    };
    let expected_cost = out
        .iter()
        .filter_map(|h| h.assessment.expected_cost)
        .sum::<f64>();
    let illiquid_symbols = out
        .iter()
        .filter(|h| h.assessment.days_to_liquidate.is_none())
        .map(|h| h.symbol.clone())
        .collect();
    Ok(BookLiquidity {
        holdings: out,
        total_value,
        days_to_liquidate: days,
        value_weighted_days: weighted_days,
        liquidity_score: score,
        expected_cost: finite("expected_cost", expected_cost)?,
        illiquid_symbols,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::LiquidityError;

    pub(crate) fn holding(symbol: &str, quantity: f64, price: f64, adv: f64) -> Holding {
        Holding {
            symbol: symbol.to_owned(),
            quantity,
            price,
            conditions: MarketConditions {
                adv,
                sigma_daily: 0.03,
                spread: 0.001,
                sigma_observations: 29,
            },
        }
    }

    #[test]
    fn book_by_hand() {
        // A: 50 x 100 = 5 000, ADV 1 000 -> 50 / 100 = 0.5 day
        // B: 300 x 50 = 15 000, ADV 1 000 -> 300 / 100 = 3 days
        //   book days = max = 3; weighted = 0.25 x 0.5 + 0.75 x 3 = 2.375
        let book = assess_book(
            &[
                holding("A", 50.0, 100.0, 1_000.0),
                holding("B", 300.0, 50.0, 1_000.0),
            ],
            &LiquidityParams::default(),
        )
        .unwrap();
        assert_eq!(book.total_value, 20_000.0);
        assert_eq!(book.days_to_liquidate, Some(3.0));
        assert!((book.value_weighted_days.unwrap() - 2.375).abs() < 1e-12);
        let expected = 0.25 * book.holdings[0].assessment.liquidity_score
            + 0.75 * book.holdings[1].assessment.liquidity_score;
        assert!((book.liquidity_score - expected).abs() < 1e-12);
        let cost: f64 = book
            .holdings
            .iter()
            .map(|h| h.assessment.expected_cost.unwrap())
            .sum();
        assert!((book.expected_cost - cost).abs() < 1e-9);
        assert!(book.illiquid_symbols.is_empty());
        let json = serde_json::to_value(&book).unwrap();
        assert_eq!(json["holdings"][1]["symbol"], "B");
        assert_eq!(json["holdings"][1]["days_to_liquidate"], 3.0);
    }

    #[test]
    fn an_untraded_holding_makes_the_book_days_none() {
        let book = assess_book(
            &[
                holding("A", 50.0, 100.0, 1_000.0),
                holding("DEAD", 10.0, 1.0, 0.0),
            ],
            &LiquidityParams::default(),
        )
        .unwrap();
        assert_eq!(book.days_to_liquidate, None);
        assert_eq!(book.value_weighted_days, None);
        assert_eq!(book.illiquid_symbols, vec!["DEAD".to_owned()]);
        assert_eq!(
            book.expected_cost,
            book.holdings[0].assessment.expected_cost.unwrap()
        );
    }

    #[test]
    fn empty_book_and_invalid_holdings() {
        let empty = assess_book(&[], &LiquidityParams::default()).unwrap();
        assert_eq!(empty.days_to_liquidate, Some(0.0));
        assert_eq!(empty.liquidity_score, 1.0);
        assert_eq!(empty.total_value, 0.0);
        assert!(matches!(
            assess_book(&[holding("A", -1.0, 1.0, 1.0)], &LiquidityParams::default()),
            Err(LiquidityError::InvalidInput {
                field: "quantity",
                ..
            })
        ));
    }
}
