//! Realised outcomes of decisions: the return from the close of the decision's day to the
//! next close (the ensemble crate's definition), signed by the decision's side.

use std::collections::{BTreeSet, HashMap};

use alphapulse_domain::{
    ports::{Actor, Decision, MarketDataRepo},
    RepoError, Side, Symbol,
};
use alphapulse_ensemble::Closes;
use chrono::{DateTime, Utc};

/// Daily candles loaded beyond the oldest decision's age.
const CANDLE_MARGIN_DAYS: i64 = 30;
/// Most daily candles loaded per symbol.
const MAX_CANDLES: i64 = 5000;

/// `+1` for buy, `-1` for sell.
pub fn side_sign(side: Side) -> f64 {
    match side {
        Side::Buy => 1.0,
        Side::Sell => -1.0,
    }
}

/// What became of one decision: `None` without a side or while its next close is unknown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Realised {
    /// The directional return: `side × realised return`.
    pub directional_return: f64,
    /// Whether the direction was right (a strictly positive directional return).
    pub hit: bool,
}

/// The daily closes of the decisions' symbols, far enough back.
///
/// # Errors
/// Storage failures.
pub fn closes_for(
    market: &dyn MarketDataRepo,
    actor: &Actor,
    decisions: &[Decision],
    now: DateTime<Utc>,
) -> Result<HashMap<Symbol, Closes>, RepoError> {
    let Some(oldest) = decisions.iter().map(|d| d.created_at).min() else {
        return Ok(HashMap::new());
    };
    let days = (now - oldest).num_days().max(0) + CANDLE_MARGIN_DAYS;
    let limit = u32::try_from(days.clamp(2, MAX_CANDLES)).unwrap_or(2);
    let symbols: BTreeSet<&Symbol> = decisions.iter().map(|d| &d.symbol).collect();
    let mut out = HashMap::with_capacity(symbols.len());
    for symbol in symbols {
        let candles = market.daily_candles(actor, symbol, limit)?;
        out.insert(symbol.clone(), Closes::from_candles(&candles));
    }
    Ok(out)
}

/// The realised outcome of `d` under `closes`.
pub fn realised(d: &Decision, closes: &HashMap<Symbol, Closes>) -> Option<Realised> {
    let side = d.side?;
    let r = closes.get(&d.symbol)?.realised_return(d.created_at)?;
    let directional_return = side_sign(side) * r;
    Some(Realised {
        directional_return,
        hit: directional_return > 0.0,
    })
}
