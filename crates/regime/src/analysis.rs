//! What each regime has looked like, and what to do in it.
//!
//! Why both: a regime label alone is not actionable. [`regime_stats`] summarises the labelled
//! history (how often, how long, how it behaved), so a user can judge whether "bear" in this
//! market means -0.1 %/day or -1 %/day; [`profile`] is a fixed, reviewed playbook per regime —
//! strategy mix and risk settings — that the API serves next to the live label.
//!
//! The playbook values are conservative defaults for a crypto-heavy book, not advice: position
//! sizes shrink and hedges grow as the regime turns hostile, leverage is capped hardest in a
//! crisis, and stops tighten where volatility makes wide stops expensive.

use alphapulse_domain::Regime;
use serde::{Deserialize, Serialize};

use crate::RegimeMap;

/// Statistics of one regime over a labelled history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeStats {
    /// Days labelled with the regime.
    pub days: usize,
    /// Share of all days, in `[0, 1]`.
    pub frequency: f64,
    /// Number of uninterrupted runs of the regime.
    pub runs: usize,
    /// Mean run length in days (the first and last runs are cut by the window, so this is a
    /// lower bound for them).
    pub avg_duration_days: f64,
    /// Mean daily log return on those days.
    pub avg_daily_return: f64,
    /// Mean annualised rolling volatility on those days.
    pub avg_volatility: f64,
}

/// Per-regime statistics of a labelled history; `None` for regimes that never occur.
///
/// `labels`, `daily_returns` and `volatility` are aligned by day; extra entries of the longer
/// slices are ignored.
pub fn regime_stats(
    labels: &[Regime],
    daily_returns: &[f64],
    volatility: &[f64],
) -> RegimeMap<Option<RegimeStats>> {
    let n = labels.len().min(daily_returns.len()).min(volatility.len());
    let mut acc = RegimeMap::<(usize, usize, f64, f64)>::default();
    for t in 0..n {
        let entry = &mut acc[labels[t]];
        entry.0 += 1;
        if t == 0 || labels[t - 1] != labels[t] {
            entry.1 += 1;
        }
        entry.2 += daily_returns[t];
        entry.3 += volatility[t];
    }
    acc.map(|_, &(days, runs, ret, vol)| {
        (days > 0).then(|| RegimeStats {
            days,
            frequency: days as f64 / n as f64,
            runs,
            avg_duration_days: days as f64 / runs as f64,
            avg_daily_return: ret / days as f64,
            avg_volatility: vol / days as f64,
        })
    })
}

/// One strategy of a regime playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Strategy {
    /// Short name.
    pub name: String,
    /// Share of risk capital, in `[0, 1]`; a playbook's allocations sum to 1.
    pub allocation: f64,
    /// Why it suits the regime.
    pub rationale: String,
}

/// Risk settings for a regime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskAdjustments {
    /// Multiplier on normal position sizes (1 = normal).
    pub position_size_multiplier: f64,
    /// Stop-loss distance as a fraction of entry price.
    pub stop_loss_pct: f64,
    /// Most gross exposure / equity.
    pub max_leverage: f64,
    /// Target share of long exposure that is hedged.
    pub hedge_ratio_target: f64,
}

/// The playbook of a regime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegimeProfile {
    /// The regime.
    pub regime: Regime,
    /// What the regime is.
    pub description: String,
    /// Strategy mix; allocations sum to 1.
    pub strategies: Vec<Strategy>,
    /// Risk settings.
    pub risk_adjustments: RiskAdjustments,
}

/// The static playbook of `regime`.
pub fn profile(regime: Regime) -> RegimeProfile {
    let s = |name: &str, allocation: f64, rationale: &str| Strategy {
        name: name.to_owned(),
        allocation,
        rationale: rationale.to_owned(),
    };
    let risk = |position_size_multiplier, stop_loss_pct, max_leverage, hedge_ratio_target| {
        RiskAdjustments {
            position_size_multiplier,
            stop_loss_pct,
            max_leverage,
            hedge_ratio_target,
        }
    };
    let (description, strategies, risk_adjustments) = match regime {
        Regime::Bull => (
            "Sustained uptrend with moderate volatility: dips are bought and trends persist.",
            vec![
                s(
                    "trend_following",
                    0.40,
                    "Persistent positive drift rewards riding momentum.",
                ),
                s(
                    "core_long",
                    0.35,
                    "Beta exposure earns the drift at low turnover.",
                ),
                s(
                    "covered_calls",
                    0.15,
                    "Sells upside volatility for yield on core holdings.",
                ),
                s("cash", 0.10, "Dry powder for pullbacks."),
            ],
            risk(1.0, 0.08, 2.0, 0.10),
        ),
        Regime::Bear => (
            "Sustained downtrend: rallies fade and correlations rise.",
            vec![
                s(
                    "short_momentum",
                    0.30,
                    "Negative drift rewards shorting weakness.",
                ),
                s(
                    "cash_stable",
                    0.40,
                    "Capital preservation while prices fall.",
                ),
                s("protective_puts", 0.20, "Caps losses on remaining longs."),
                s("mean_reversion", 0.10, "Small size on oversold bounces."),
            ],
            risk(0.5, 0.05, 1.0, 0.50),
        ),
        Regime::Sideways => (
            "Range-bound market with low volatility and no clear direction.",
            vec![
                s(
                    "range_mean_reversion",
                    0.40,
                    "Prices revert inside the range.",
                ),
                s(
                    "basis_carry",
                    0.30,
                    "Market-neutral funding and basis carry.",
                ),
                s(
                    "short_volatility",
                    0.10,
                    "Calm markets overprice options, kept small.",
                ),
                s("cash", 0.20, "Waiting for a breakout."),
            ],
            risk(0.75, 0.04, 1.5, 0.25),
        ),
        Regime::Crisis => (
            "Sharp falls with extreme volatility and liquidity stress.",
            vec![
                s(
                    "cash_stable",
                    0.60,
                    "Survive first: liquidity and no forced selling.",
                ),
                s(
                    "tail_hedges",
                    0.25,
                    "Convex protection pays most when volatility spikes.",
                ),
                s(
                    "short_momentum",
                    0.15,
                    "Small, tightly stopped shorts on breakdowns.",
                ),
            ],
            risk(0.25, 0.03, 0.5, 0.80),
        ),
        Regime::Recovery => (
            "Rebound after a bear or crisis phase; prices rise while volatility is still elevated.",
            vec![
                s(
                    "early_momentum",
                    0.35,
                    "New uptrends start strongly off the lows.",
                ),
                s("quality_long", 0.30, "Liquid leaders recover first."),
                s("oversold_reversion", 0.15, "Buys panicked overshoots."),
                s("cash", 0.20, "A relapse is still likely."),
            ],
            risk(0.75, 0.06, 1.5, 0.30),
        ),
    };
    RegimeProfile {
        regime,
        description: description.to_owned(),
        strategies,
        risk_adjustments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alphapulse_domain::TextEnum;

    #[test]
    fn stats_count_days_runs_and_averages() {
        use Regime::{Bear, Bull};
        let labels = [Bull, Bull, Bear, Bull, Bull, Bull];
        let returns = [0.01, 0.03, -0.02, 0.0, 0.01, 0.02];
        let vols = [0.2, 0.2, 0.6, 0.3, 0.3, 0.3];
        let stats = regime_stats(&labels, &returns, &vols);
        let bull = stats[Bull].unwrap_or_else(|| panic!("bull occurs"));
        assert_eq!((bull.days, bull.runs), (5, 2));
        assert!((bull.frequency - 5.0 / 6.0).abs() < 1e-12);
        assert!((bull.avg_duration_days - 2.5).abs() < 1e-12);
        assert!((bull.avg_daily_return - 0.014).abs() < 1e-12);
        assert!((bull.avg_volatility - 0.26).abs() < 1e-12);
        assert_eq!(stats[Bear].map(|s| s.runs), Some(1));
        assert!(stats[Regime::Crisis].is_none());
    }

    #[test]
    fn every_playbook_is_complete_and_sane() {
        for regime in Regime::ALL {
            let p = profile(*regime);
            assert_eq!(p.regime, *regime);
            let total: f64 = p.strategies.iter().map(|s| s.allocation).sum();
            assert!(
                (total - 1.0).abs() < 1e-9,
                "{regime}: allocations sum to {total}"
            );
            let r = p.risk_adjustments;
            assert!(r.position_size_multiplier > 0.0 && r.position_size_multiplier <= 1.0);
            assert!(r.stop_loss_pct > 0.0 && r.stop_loss_pct < 0.2);
            assert!((0.0..=1.0).contains(&r.hedge_ratio_target));
        }
        // Hostile regimes get smaller size and more hedging than bull markets.
        let (bull, crisis) = (profile(Regime::Bull), profile(Regime::Crisis));
        assert!(crisis.risk_adjustments.max_leverage < bull.risk_adjustments.max_leverage);
        assert!(
            crisis.risk_adjustments.hedge_ratio_target > bull.risk_adjustments.hedge_ratio_target
        );
    }
}
