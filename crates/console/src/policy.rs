//! The decision policy, as pure functions: which checks a prediction fails, what that makes of
//! it, and how an order is sized and checked against the tenant's risk limits.
//!
//! A prediction is auto-executed when autopost is enabled, its calibrated probability is at
//! least the threshold, an accepted rule covers its pattern, the month's LLM spend (with this
//! prediction's) is within the cap, and the order fits the risk limits. Every failing check is
//! recorded, in [`DecisionReason`]'s precedence order, so a dry run can tell which past
//! decisions a new rule would have released.
//!
//! Sizing: an order's notional is `|prediction| × ORDER_WEIGHT` of the book (gross value of
//! spot holdings and futures positions at current prices), as base quantity rounded down to
//! the symbol's step. The risk check: the symbol's exposure after the order (spot value plus
//! signed futures notional) over the book must not exceed `max_position_weight`.

use alphapulse_domain::{
    ports::{DecisionAction, DecisionReason, RiskLimits, TenantSettings},
    Side, Symbol,
};
use alphapulse_hedging::analysis::{round_down, step_size};
use rust_decimal::{prelude::ToPrimitive, Decimal};

/// Share of the book one order at full conviction (`|prediction| = 1`) trades.
pub const ORDER_WEIGHT: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// The side of a prediction (`None` for zero).
pub fn side_of(prediction: f64) -> Option<Side> {
    if prediction > 0.0 {
        Some(Side::Buy)
    } else if prediction < 0.0 {
        Some(Side::Sell)
    } else {
        None
    }
}

/// The tenant's book at current prices, as the risk check sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Book {
    /// Gross value: Σ spot value + Σ |futures notional|.
    pub gross: Decimal,
    /// Each symbol's signed exposure (spot value + long notional − short notional).
    pub exposure: Vec<(Symbol, Decimal)>,
}

impl Book {
    /// The signed exposure of `symbol`.
    pub fn exposure_of(&self, symbol: &Symbol) -> Decimal {
        self.exposure
            .iter()
            .filter(|(s, _)| s == symbol)
            .map(|(_, e)| *e)
            .sum()
    }
}

/// The outcome of sizing and the risk check.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskCheck {
    /// The order fits: its base quantity and the symbol's weight after it.
    Pass {
        /// Base quantity.
        quantity: Decimal,
        /// `|exposure after| / book`.
        weight_after: f64,
    },
    /// It does not (or cannot be sized): why.
    Fail(String),
}

/// Sizes the order of a `side` prediction of strength `|prediction|` on `symbol` at `price`
/// and checks it against `limits`.
pub fn size_and_check(
    book: &Book,
    symbol: &Symbol,
    side: Side,
    prediction: f64,
    price: Option<Decimal>,
    limits: &RiskLimits,
) -> RiskCheck {
    let Some(price) = price.filter(|p| *p > Decimal::ZERO) else {
        return RiskCheck::Fail(format!("no price for {symbol} to size the order"));
    };
    if book.gross <= Decimal::ZERO {
        return RiskCheck::Fail("no book to size the order against".to_owned());
    }
    let strength = Decimal::try_from(prediction.abs().min(1.0)).unwrap_or(Decimal::ZERO);
    let notional = book.gross * ORDER_WEIGHT * strength;
    let quantity = round_down(notional / price, step_size(symbol));
    if quantity <= Decimal::ZERO {
        return RiskCheck::Fail(format!("the order is below {symbol}'s step size"));
    }
    let signed = match side {
        Side::Buy => quantity * price,
        Side::Sell => -(quantity * price),
    };
    let after = book.exposure_of(symbol) + signed;
    let weight_after = (after.abs() / book.gross).to_f64().unwrap_or(f64::INFINITY);
    if weight_after > limits.max_position_weight + 1e-12 {
        return RiskCheck::Fail(format!(
            "{symbol} would be {:.1} % of the book, above the {:.1} % limit",
            weight_after * 100.0,
            limits.max_position_weight * 100.0
        ));
    }
    RiskCheck::Pass {
        quantity,
        weight_after,
    }
}

/// What the checks see of one prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs<'a> {
    /// The tenant's settings.
    pub settings: &'a TenantSettings,
    /// The calibrated probability.
    pub calibrated_p: f64,
    /// The side (`None` for a flat prediction).
    pub side: Option<Side>,
    /// Whether an accepted rule covers the pattern.
    pub covered: bool,
    /// The month's LLM spend including this prediction's.
    pub spend_with_this: Decimal,
    /// Sizing and risk (`None` when there is no side).
    pub risk: Option<&'a RiskCheck>,
}

/// Every check that fails, in precedence order.
pub fn reasons(i: &Inputs<'_>) -> Vec<DecisionReason> {
    let mut out = Vec::new();
    if !i.settings.autopost_enabled {
        out.push(DecisionReason::AutopostDisabled);
    }
    if i.calibrated_p < i.settings.autopost_threshold {
        out.push(DecisionReason::BelowThreshold);
    }
    if i.side.is_none() || !i.covered {
        out.push(DecisionReason::NoRule);
    }
    if i.spend_with_this > i.settings.llm_tenant_cap_usd {
        out.push(DecisionReason::LlmCapReached);
    }
    if matches!(i.risk, Some(RiskCheck::Fail(_))) {
        out.push(DecisionReason::RiskLimit);
    }
    out
}

/// What failing `reasons` make of a prediction with `side` (before any order is placed):
/// rejected when the order breaks the risk limits or there is nothing to trade, queued for a
/// person otherwise, auto-executed when nothing failed.
pub fn action(side: Option<Side>, reasons: &[DecisionReason]) -> DecisionAction {
    if side.is_none() || reasons.contains(&DecisionReason::RiskLimit) {
        DecisionAction::Rejected
    } else if reasons.is_empty() {
        DecisionAction::AutoExecuted
    } else {
        DecisionAction::Queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn book() -> Book {
        // 100 000 of BTC spot and a 20 000 ETH short: gross 120 000.
        Book {
            gross: dec("120000"),
            exposure: vec![
                (sym("BTCUSDT"), dec("100000")),
                (sym("ETHUSDT"), dec("-20000")),
            ],
        }
    }

    #[test]
    fn orders_are_sized_from_the_book_and_checked_against_the_weight_limit() {
        let limits = RiskLimits::default(); // max_position_weight 0.20
                                            // ETH at 2000, prediction −0.5: notional 120 000 × 0.05 × 0.5 = 3 000 → 1.5 ETH
                                            // (ETH's step 0.001). Exposure −20 000 − 3 000 = −23 000 → 23 000 / 120 000 =
                                            // 19.17 % ≤ 20 %.
        let RiskCheck::Pass {
            quantity,
            weight_after,
        } = size_and_check(
            &book(),
            &sym("ETHUSDT"),
            Side::Sell,
            -0.5,
            Some(dec("2000")),
            &limits,
        )
        else {
            panic!("should pass")
        };
        assert_eq!(quantity, dec("1.5"));
        assert!((weight_after - 23_000.0 / 120_000.0).abs() < 1e-12);
        // BTC is 83 % of the book already: any buy breaks the 20 % limit.
        let check = size_and_check(
            &book(),
            &sym("BTCUSDT"),
            Side::Buy,
            1.0,
            Some(dec("50000")),
            &limits,
        );
        assert!(
            matches!(check, RiskCheck::Fail(ref why) if why.contains("above the 20.0 % limit")),
            "{check:?}"
        );
        // No price, no book, too small: cannot be sized.
        assert!(matches!(
            size_and_check(&book(), &sym("SOLUSDT"), Side::Buy, 1.0, None, &limits),
            RiskCheck::Fail(_)
        ));
        assert!(matches!(
            size_and_check(
                &Book::default(),
                &sym("SOLUSDT"),
                Side::Buy,
                1.0,
                Some(dec("100")),
                &limits
            ),
            RiskCheck::Fail(_)
        ));
        assert!(matches!(
            size_and_check(&book(), &sym("BTCUSDT"), Side::Sell, 1e-9, Some(dec("50000")), &limits),
            RiskCheck::Fail(ref why) if why.contains("step size")
        ));
    }

    #[test]
    fn every_failing_check_is_listed_in_precedence_order() {
        let settings = TenantSettings {
            autopost_enabled: false,
            autopost_threshold: 0.9,
            llm_tenant_cap_usd: dec("10"),
            ..TenantSettings::default()
        };
        let fail = RiskCheck::Fail("x".into());
        let all_fail = Inputs {
            settings: &settings,
            calibrated_p: 0.5,
            side: Some(Side::Buy),
            covered: false,
            spend_with_this: dec("10.01"),
            risk: Some(&fail),
        };
        assert_eq!(
            reasons(&all_fail),
            vec![
                DecisionReason::AutopostDisabled,
                DecisionReason::BelowThreshold,
                DecisionReason::NoRule,
                DecisionReason::LlmCapReached,
                DecisionReason::RiskLimit
            ]
        );
        assert_eq!(
            action(Some(Side::Buy), &reasons(&all_fail)),
            DecisionAction::Rejected
        );
        let on = TenantSettings {
            autopost_enabled: true,
            ..settings.clone()
        };
        let pass = RiskCheck::Pass {
            quantity: dec("1"),
            weight_after: 0.1,
        };
        // At the threshold and exactly at the cap: both pass.
        let ok = Inputs {
            settings: &on,
            calibrated_p: 0.9,
            side: Some(Side::Sell),
            covered: true,
            spend_with_this: dec("10"),
            risk: Some(&pass),
        };
        assert!(reasons(&ok).is_empty());
        assert_eq!(action(Some(Side::Sell), &[]), DecisionAction::AutoExecuted);
        let no_rule = Inputs {
            covered: false,
            ..ok.clone()
        };
        assert_eq!(reasons(&no_rule), vec![DecisionReason::NoRule]);
        assert_eq!(
            action(Some(Side::Sell), &reasons(&no_rule)),
            DecisionAction::Queued
        );
        let flat = Inputs {
            side: None,
            risk: None,
            ..ok
        };
        assert_eq!(reasons(&flat), vec![DecisionReason::NoRule]);
        assert_eq!(action(None, &reasons(&flat)), DecisionAction::Rejected);
    }
}
