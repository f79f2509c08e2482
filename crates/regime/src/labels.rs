//! Naming hidden states: which fitted state is a bull market, which a crisis.
//!
//! Why a rule and not more fitting: HMM states are anonymous and their order is arbitrary, so a
//! deterministic, documented rule on each state's *average behaviour* turns them into the
//! domain's [`Regime`]s. The rule is scale-free (it compares return with volatility, and
//! volatility with the sample's typical volatility), so it works for BTC and for a bond index.
//!
//! For state `k` let `ret_k` be its mean daily log return, `vol_k` its mean annualised
//! volatility, `days_k` its expected number of days, `sharpe_k = ret_k × periods_per_year /
//! vol_k` and `ratio_k = vol_k / reference`, where `reference` is the sample's median
//! volatility. A state *has a direction* when `|sharpe_k| >= band_k` with
//! `band_k = max(trend_band, min_t_stat / sqrt(days_k / periods_per_year))`: the mean return must
//! be economically meaningful (annualised Sharpe-like ratio of at least `trend_band`, default 0.5)
//! *and* distinguishable from noise (its t-statistic, `sharpe_k × sqrt(years_k)`, at least
//! `min_t_stat`, default 1) — a short, calm state whose returns happen to average slightly
//! negative is a range, not a bear market. Then, first match wins:
//!
//! 1. **Crisis**: falling (`sharpe_k <= -band_k`) and `ratio_k >= crisis_vol_ratio` (default
//!    1.5) — falling and turbulent.
//! 2. **Bear**: falling.
//! 3. **Sideways**: no direction.
//! 4. **Recovery**: rising (`sharpe_k >= band_k`) with `ratio_k >= recovery_vol_ratio`
//!    (default 1.1) and mostly entered from bear/crisis states: of the probability flowing into
//!    `k` from *other* states (`occupancy_j × P(j→k)`), at least `recovery_inflow_share`
//!    (default 0.5) comes from states labelled Crisis or Bear by steps 1–2.
//! 5. **Bull**: every other rising state.
//!
//! With fewer than five states not every regime appears, and several states may share a label;
//! their probabilities are then summed ([`merge_probabilities`]).

use alphapulse_domain::Regime;
use serde::{Deserialize, Serialize};

use crate::RegimeMap;

/// Average behaviour of one fitted state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StateSummary {
    /// Mean daily log return.
    pub mean_return: f64,
    /// Mean annualised volatility.
    pub volatility: f64,
    /// Share of days spent in the state (expected, from posteriors), in `[0, 1]`.
    pub occupancy: f64,
    /// Expected number of days spent in the state (sum of its posteriors).
    pub days: f64,
}

/// Thresholds of the labelling rule (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelConfig {
    /// Periods per year used to annualise the mean return (default 365).
    pub periods_per_year: f64,
    /// Annualised return / volatility beyond which a state has a direction (default 0.5).
    pub trend_band: f64,
    /// Smallest t-statistic of the mean return for a state to have a direction (default 1).
    pub min_t_stat: f64,
    /// Volatility / reference volatility from which a falling state is a crisis (default 1.5).
    pub crisis_vol_ratio: f64,
    /// Volatility / reference volatility from which a rising state may be a recovery (default 1.1).
    pub recovery_vol_ratio: f64,
    /// Share of a rising state's inflow that must come from bear/crisis states (default 0.5).
    pub recovery_inflow_share: f64,
}

impl Default for LabelConfig {
    fn default() -> Self {
        Self {
            periods_per_year: 365.0,
            trend_band: 0.5,
            min_t_stat: 1.0,
            crisis_vol_ratio: 1.5,
            recovery_vol_ratio: 1.1,
            recovery_inflow_share: 0.5,
        }
    }
}

/// Labels every state by the rule in the module docs.
///
/// `transition` is the fitted K×K matrix (for the recovery inflow; pass an empty slice to never
/// label recovery) and `reference_volatility` the sample's typical annualised volatility.
pub fn label_states(
    states: &[StateSummary],
    transition: &[Vec<f64>],
    reference_volatility: f64,
    config: &LabelConfig,
) -> Vec<Regime> {
    let reference = if reference_volatility > 0.0 {
        reference_volatility
    } else {
        f64::MIN_POSITIVE
    };
    // Steps 1-3; rising states are provisionally bull.
    let mut labels: Vec<Regime> = states
        .iter()
        .map(|s| {
            let direction = direction(s, config);
            if direction < 0 && s.volatility / reference >= config.crisis_vol_ratio {
                Regime::Crisis
            } else if direction < 0 {
                Regime::Bear
            } else if direction == 0 {
                Regime::Sideways
            } else {
                Regime::Bull
            }
        })
        .collect();
    // Step 4: rising, turbulent states entered mostly from falling ones.
    let falling: Vec<bool> = labels
        .iter()
        .map(|l| matches!(l, Regime::Crisis | Regime::Bear))
        .collect();
    for (k, s) in states.iter().enumerate() {
        if labels[k] != Regime::Bull || s.volatility / reference < config.recovery_vol_ratio {
            continue;
        }
        let (mut from_falling, mut from_others) = (0.0, 0.0);
        for (j, row) in transition.iter().enumerate() {
            if j == k || j >= states.len() {
                continue;
            }
            let flow = states[j].occupancy * row.get(k).copied().unwrap_or(0.0);
            from_others += flow;
            if falling[j] {
                from_falling += flow;
            }
        }
        if from_others > 0.0 && from_falling / from_others >= config.recovery_inflow_share {
            labels[k] = Regime::Recovery;
        }
    }
    labels
}

/// -1 falling, 0 no direction, +1 rising (see the module docs).
fn direction(s: &StateSummary, config: &LabelConfig) -> i8 {
    let sharpe = if s.volatility > 0.0 {
        s.mean_return * config.periods_per_year / s.volatility
    } else {
        // No volatility at all: only the sign of the return matters.
        s.mean_return * f64::INFINITY
    };
    let years = s.days / config.periods_per_year;
    let band = if years > 0.0 {
        config.trend_band.max(config.min_t_stat / years.sqrt())
    } else {
        f64::INFINITY
    };
    if sharpe >= band {
        1
    } else if sharpe <= -band {
        -1
    } else {
        0
    }
}

/// Sums state probabilities into regime probabilities (`labels[k]` is state `k`'s regime).
pub fn merge_probabilities(state_probabilities: &[f64], labels: &[Regime]) -> RegimeMap<f64> {
    let mut out = RegimeMap::default();
    for (p, label) in state_probabilities.iter().zip(labels) {
        out[*label] += p;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(mean_return: f64, volatility: f64, occupancy: f64) -> StateSummary {
        StateSummary {
            mean_return,
            volatility,
            occupancy,
            days: occupancy * 1000.0,
        }
    }

    #[test]
    fn merging_sums_states_that_share_a_label() {
        let m = merge_probabilities(
            &[0.1, 0.2, 0.7],
            &[Regime::Bull, Regime::Crisis, Regime::Bull],
        );
        assert!((m[Regime::Bull] - 0.8).abs() < 1e-12);
        assert!((m[Regime::Crisis] - 0.2).abs() < 1e-12);
        assert_eq!(m[Regime::Bear], 0.0);
    }

    #[test]
    fn zero_volatility_states_are_labelled_by_sign() {
        let cfg = LabelConfig::default();
        let labels = label_states(
            &[state(0.0, 0.0, 0.5), state(0.001, 0.0, 0.5)],
            &[],
            0.5,
            &cfg,
        );
        assert_eq!(labels, vec![Regime::Sideways, Regime::Bull]);
    }
}
