//! The answers of the exposure, risk-metrics, limits, sizing and report use cases.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Exposure to one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SymbolExposure {
    /// Instrument.
    pub symbol: Symbol,
    /// Spot market value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub spot_value: Decimal,
    /// Futures exposure (`+` long, `−` short).
    #[serde(with = "alphapulse_domain::decimal")]
    pub futures_value: Decimal,
    /// Spot plus futures.
    #[serde(with = "alphapulse_domain::decimal")]
    pub net_exposure: Decimal,
    /// `net_exposure / portfolio_value` (`null` when the portfolio value is not positive).
    pub exposure_pct: Option<f64>,
}

/// The exposure answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exposure {
    /// Per asset, by symbol.
    pub assets: Vec<SymbolExposure>,
    /// `Σ |net_exposure|`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_exposure: Decimal,
    /// `Σ |market value|` over every position (hedges counted too).
    #[serde(with = "alphapulse_domain::decimal")]
    pub gross_exposure: Decimal,
    /// `Σ net_exposure`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub net_exposure: Decimal,
    /// Net asset value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub portfolio_value: Decimal,
    /// Cash.
    #[serde(with = "alphapulse_domain::decimal")]
    pub cash: Decimal,
    /// `total_exposure / portfolio_value` (0 with no exposure; `null` when the portfolio
    /// value is not positive).
    pub exposure_ratio: Option<f64>,
    /// `gross_exposure / portfolio_value`, as `exposure_ratio`.
    pub leverage: Option<f64>,
}

/// One figure by each VaR method.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ByMethod {
    /// Empirical quantile of the returns.
    pub historical: f64,
    /// Gaussian with the sample mean and standard deviation.
    pub parametric: f64,
    /// Seeded Gaussian simulation.
    pub monte_carlo: f64,
}

/// How the Monte Carlo figure was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonteCarloRun {
    /// Draws.
    pub simulations: usize,
    /// Seed of the ChaCha8 stream.
    pub seed: u64,
}

/// The risk metrics answer. VaR, CVaR and drawdown are positive one-day loss fractions;
/// ratios are annualised with 365 periods a year; a ratio that is undefined is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskMetrics {
    /// Days of returns asked for.
    pub lookback_days: usize,
    /// VaR confidence.
    pub confidence: f64,
    /// Daily returns used (0 for an empty book).
    pub observations: usize,
    /// Where the returns came from.
    pub returns_source: ReturnsSource,
    /// Periods per year of the annualisation (365: crypto trades every day).
    pub periods_per_year: f64,
    /// Annualised volatility.
    pub volatility: f64,
    /// Value at Risk by method.
    pub var: ByMethod,
    /// Conditional VaR (expected shortfall) by method.
    pub cvar: ByMethod,
    /// The Monte Carlo run.
    pub monte_carlo: MonteCarloRun,
    /// Historical VaR in quote currency: `var.historical × portfolio_value`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub var_amount: Decimal,
    /// Maximum drawdown over the window.
    pub max_drawdown: f64,
    /// Sharpe ratio (risk-free 0).
    pub sharpe_ratio: Option<f64>,
    /// Sortino ratio (target 0).
    pub sortino_ratio: Option<f64>,
    /// Calmar ratio.
    pub calmar_ratio: Option<f64>,
    /// Compound annual growth rate.
    pub annualised_return: Option<f64>,
    /// Net asset value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub portfolio_value: Decimal,
    /// When computed.
    pub calculated_at: DateTime<Utc>,
}

/// A limit the book breaks now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitBreach {
    /// The limit (`max_position_weight`, `max_leverage`, `max_drawdown`).
    pub limit: &'static str,
    /// The symbol, for a position weight.
    pub symbol: Option<Symbol>,
    /// The value now.
    pub value: f64,
    /// The limit.
    pub threshold: f64,
    /// For people.
    pub message: String,
}

/// How much of each limit the book uses now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitUsage {
    /// Largest `|net exposure| / portfolio value` of one symbol (0 for an empty book).
    pub largest_position_weight: f64,
    /// Its symbol.
    pub largest_position_symbol: Option<Symbol>,
    /// `gross exposure / portfolio value` (0 for an empty book; `null` when the portfolio
    /// value is not positive).
    pub leverage: Option<f64>,
    /// How far the portfolio is below its peak now, over the last 252 days of returns
    /// (`null` without enough history).
    pub current_drawdown: Option<f64>,
    /// Realised annualised volatility over the same window (`null` without enough history).
    pub volatility: Option<f64>,
    /// Where those returns came from.
    pub returns_source: ReturnsSource,
    /// How many there were.
    pub observations: usize,
    /// The limits broken now (each raises a `risk` alert).
    pub breaches: Vec<LimitBreach>,
}

/// The tenant's limits and their use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitsView {
    /// Largest weight of one position, `(0, 1]`.
    pub max_position_weight: f64,
    /// Largest gross exposure / equity, `[1, 10]`.
    pub max_leverage: f64,
    /// Largest drawdown tolerated, `(0, 1]`.
    pub max_drawdown: f64,
    /// Annualised volatility aimed at, `(0, 2]`.
    pub target_volatility: f64,
    /// Last change (`null`: the defaults).
    pub updated_at: Option<DateTime<Utc>>,
    /// Who changed them.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub updated_by: Option<UserId>,
    /// Their use now.
    pub usage: LimitUsage,
}

/// A change of limits: the fields to change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimitsPatch {
    /// New `max_position_weight`.
    pub max_position_weight: Option<f64>,
    /// New `max_leverage`.
    pub max_leverage: Option<f64>,
    /// New `max_drawdown`.
    pub max_drawdown: Option<f64>,
    /// New `target_volatility`.
    pub target_volatility: Option<f64>,
}

/// The position-size answer. Sizes: units of the asset at `price`; values: quote currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionSizeView {
    /// Instrument.
    pub symbol: Symbol,
    /// Entry price (latest price).
    #[serde(with = "alphapulse_domain::decimal")]
    pub price: Decimal,
    /// Units to buy: the smaller of the volatility-target and fractional-Kelly sizes, capped
    /// by the limits, rounded down to 8 decimals.
    #[serde(with = "alphapulse_domain::decimal")]
    pub recommended_size: Decimal,
    /// `recommended_size × price`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub recommended_value: Decimal,
    /// The largest value the limits allow (position weight and leverage left).
    #[serde(with = "alphapulse_domain::decimal")]
    pub max_size: Decimal,
    /// Loss if the stop is hit: `recommended_size × |price − stop_loss|`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub risk_per_trade: Decimal,
    /// `price − 2·ATR(14)`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub stop_loss: Decimal,
    /// `price + 3·ATR(14)`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub take_profit: Decimal,
    /// The sizer the recommendation followed.
    pub method: SizingMethod,
    /// Weight of equity recommended.
    pub weight: f64,
    /// Volatility-target weight before the caps (`target_volatility / asset volatility`).
    pub volatility_target_weight: f64,
    /// Quarter-Kelly weight before the caps (`0.25 · μ/σ²`; `null` when undefined).
    pub kelly_weight: Option<f64>,
    /// Which cap decided the weight.
    pub bound: sizing::CapBound,
    /// The asset's annualised volatility.
    pub asset_volatility: f64,
    /// Wilder ATR(14), price units.
    pub atr: f64,
    /// Net asset value sized against.
    #[serde(with = "alphapulse_domain::decimal")]
    pub equity: Decimal,
    /// Daily returns of the asset used.
    pub observations: usize,
}

/// The risk report: everything at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskReport {
    /// Exposure.
    pub exposure: Exposure,
    /// Risk metrics (`null` with too little history: see `metrics_unavailable`).
    pub metrics: Option<RiskMetrics>,
    /// Why there are no metrics.
    pub metrics_unavailable: Option<String>,
    /// Limits and their use.
    pub limits: LimitsView,
    /// Concentration of the holdings' risk (`null` with too little history).
    pub concentration: Option<Concentration>,
    /// The latest day of the tenant's regime history (`null` before the regime model ran).
    pub regime: Option<RegimeDay>,
    /// When generated.
    pub generated_at: DateTime<Utc>,
}
