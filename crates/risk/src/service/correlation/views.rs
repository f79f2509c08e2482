//! The answers of the correlation use cases.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The correlation matrix answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatrixAnswer {
    /// The symbols, in the order asked (rows and columns of `matrix`).
    pub symbols: Vec<Symbol>,
    /// `matrix[i][j]` = correlation of symbols `i` and `j`; `null` where undefined (a price
    /// that never moved).
    pub matrix: Vec<Vec<Option<f64>>>,
    /// The coefficient.
    pub method: CorrelationMethod,
    /// Days asked for.
    pub lookback_days: usize,
    /// Aligned daily returns used.
    pub observations: usize,
    /// Mean off-diagonal coefficient.
    pub average_correlation: Option<f64>,
    /// First date of the returns.
    pub start_date: NaiveDate,
    /// Last date of the returns.
    pub end_date: NaiveDate,
    /// When the matrix was computed (equal inputs share one computation).
    pub timestamp: DateTime<Utc>,
}

/// One window of a rolling correlation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollingPoint {
    /// Last date of the window.
    pub date: NaiveDate,
    /// Its correlation (`null` when undefined).
    pub correlation: Option<f64>,
}

/// The rolling correlation answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollingAnswer {
    /// First symbol.
    pub symbol1: Symbol,
    /// Second symbol.
    pub symbol2: Symbol,
    /// Window length, days.
    pub window_days: usize,
    /// Days looked back.
    pub lookback_days: usize,
    /// Pearson.
    pub method: CorrelationMethod,
    /// Aligned daily returns used.
    pub observations: usize,
    /// One value per window, oldest first.
    pub correlations: Vec<RollingPoint>,
    /// The last window's value.
    pub current: Option<f64>,
    /// Mean of the defined values.
    pub average: Option<f64>,
    /// Smallest.
    pub min: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

/// Two holdings whose returns are highly correlated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HighCorrelationPair {
    /// First symbol.
    pub symbol1: Symbol,
    /// Second symbol.
    pub symbol2: Symbol,
    /// Pearson correlation, `|ρ| > 0.7`.
    pub correlation: f64,
    /// Weight of the first.
    pub weight1: f64,
    /// Weight of the second.
    pub weight2: f64,
}

/// Where the holdings' risk comes from. Weights are signed net exposures over the gross;
/// `risk_contributions` are annualised Euler contributions, summing to
/// `portfolio_volatility`; `risk_shares` sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Concentration {
    /// The holdings (symbols with a net exposure).
    pub symbols: Vec<Symbol>,
    /// Weight per symbol.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, f64>))]
    pub weights: BTreeMap<Symbol, f64>,
    /// Herfindahl index of the risk shares, `[0, 1]` (1: one source of risk; 0 for an
    /// empty book; `null` when the portfolio has no volatility).
    pub concentration_score: Option<f64>,
    /// Pairs with `|ρ| > 0.7`, strongest first.
    pub high_correlation_pairs: Vec<HighCorrelationPair>,
    /// `Σ|w_i|σ_i / σ_p` (≥ 1 long-only; 0 for an empty book; `null` without volatility).
    pub diversification_ratio: Option<f64>,
    /// `1 / Σ share²`, the effective number of risk sources (0 for an empty book).
    pub effective_assets: Option<f64>,
    /// Annualised risk contribution per symbol.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, f64>))]
    pub risk_contributions: BTreeMap<Symbol, f64>,
    /// Share of the risk per symbol.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, f64>))]
    pub risk_shares: BTreeMap<Symbol, f64>,
    /// Annualised volatility of the weighted holdings.
    pub portfolio_volatility: f64,
    /// Mean pairwise correlation (`null` with fewer than two holdings).
    pub average_correlation: Option<f64>,
    /// Aligned daily returns used.
    pub observations: usize,
    /// Days looked back.
    pub lookback_days: usize,
}

/// Correlation within one regime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeCorrelation {
    /// The regime.
    pub regime: Regime,
    /// Mean pairwise Pearson correlation on the regime's days (`null` with fewer than 10).
    pub average_correlation: Option<f64>,
    /// Standard deviation of the pairwise correlations (`null` likewise).
    pub correlation_dispersion: Option<f64>,
    /// Days of the regime with returns.
    pub observations: usize,
    /// The regime's last day in the window.
    pub last_occurrence: Option<NaiveDate>,
}

/// A change of regime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeTransition {
    /// Before.
    pub from_regime: Regime,
    /// After.
    pub to_regime: Regime,
    /// The first day of the new regime.
    pub date: NaiveDate,
}

/// Correlation by market regime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeCorrelations {
    /// The latest regime of the tenant's history (`null` before the regime model ran).
    pub current_regime: Option<Regime>,
    /// The holdings correlated.
    pub symbols: Vec<Symbol>,
    /// One entry per regime seen in the window.
    pub regime_correlations: Vec<RegimeCorrelation>,
    /// The last 10 changes, newest first.
    pub regime_transitions: Vec<RegimeTransition>,
    /// `1 − changes / (days − 1)`: the share of days that kept the previous day's regime
    /// (`null` with fewer than two days of history).
    pub stability_score: Option<f64>,
    /// Days of regime history in the window.
    pub regime_days: usize,
    /// Days looked back.
    pub lookback_days: usize,
}

/// A pair whose rolling correlation crossed the threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrelationSpike {
    /// First symbol.
    pub symbol1: Symbol,
    /// Second symbol.
    pub symbol2: Symbol,
    /// The 30-day correlation now.
    pub correlation: f64,
    /// The lowest `|ρ|` of the previous 30 windows (at or below the threshold).
    pub previous_correlation: f64,
    /// The first day above the threshold.
    pub crossed_on: NaiveDate,
}

/// A concentration finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConcentrationAlert {
    /// `concentration_score` or `high_correlation_pair`.
    pub kind: &'static str,
    /// For people.
    pub message: String,
    /// The value.
    pub value: f64,
    /// The threshold it is above.
    pub threshold: f64,
}

/// The correlation alerts answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrelationAlerts {
    /// `|ρ|` threshold.
    pub threshold: f64,
    /// Window of the rolling correlations.
    pub window_days: usize,
    /// Pairs of holdings whose 30-day correlation crossed the threshold within the last 30
    /// days (each raises a `correlation` alert).
    pub correlation_spike_alerts: Vec<CorrelationSpike>,
    /// Concentration findings (each raises a `correlation` alert).
    pub concentration_alerts: Vec<ConcentrationAlert>,
    /// When checked.
    pub last_check: DateTime<Utc>,
}
