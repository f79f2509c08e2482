//! The bounds the service checks its inputs against, and the default lookbacks.

/// Longest ensemble name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest agent id or type.
pub const MAX_AGENT_LEN: usize = 64;
/// Largest `initial_weight` (relative to an average agent).
pub const MAX_INITIAL_WEIGHT: f64 = 100.0;
/// Most active agents in one ensemble.
pub const MAX_AGENTS: usize = 100;
/// Most signals in one prediction.
pub const MAX_SIGNALS: usize = 100;
/// Largest serialised `config`, in bytes.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;
/// Default and largest `lookback` (predictions) of the optimisation.
pub const OPTIMIZE_LOOKBACK: (u32, u32) = (100, 1000);
/// Default and largest `lookback` (predictions) of the performance report.
pub const PERFORMANCE_LOOKBACK: (u32, u32) = (500, 5000);
/// Default and largest `lookback` (signals) of the agent rankings.
pub const RANKINGS_LOOKBACK: (u32, u32) = (5000, 20000);
