//! Hedge analysis (seed 001): per asset, spot value against futures notional, the current
//! and target hedge ratio, and the orders that would bring the short hedge to the target,
//! rounded down to the instrument's step size.

use std::collections::BTreeMap;

use alphapulse_domain::{PositionSide, Symbol};
use rust_decimal::{prelude::FromPrimitive, prelude::ToPrimitive, Decimal};
use serde::Serialize;

use crate::{FuturesPositionView, SpotPosition};

/// Quantity step sizes of common USD-M contracts (Binance's `LOT_SIZE` for market orders);
/// other symbols use [`DEFAULT_STEP`].
const STEP_SIZES: &[(&str, &str)] = &[
    ("BTCUSDT", "0.001"),
    ("ETHUSDT", "0.001"),
    ("BNBUSDT", "0.01"),
    ("SOLUSDT", "1"),
    ("XRPUSDT", "0.1"),
    ("ADAUSDT", "1"),
    ("DOGEUSDT", "1"),
    ("AVAXUSDT", "1"),
    ("DOTUSDT", "0.1"),
    ("LINKUSDT", "0.01"),
];

/// Step size of symbols not in the table.
pub const DEFAULT_STEP: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

/// The quantity step of `symbol`'s futures contract.
pub fn step_size(symbol: &Symbol) -> Decimal {
    STEP_SIZES
        .iter()
        .find(|(s, _)| *s == symbol.as_str())
        .and_then(|(_, step)| step.parse().ok())
        .unwrap_or(DEFAULT_STEP)
}

/// Rounds `quantity` down to a multiple of `step` (never up: a hedge order must not exceed
/// what the analysis asked for).
pub fn round_down(quantity: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return quantity;
    }
    ((quantity / step).floor() * step).normalize()
}

/// What to do with an asset's short hedge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HedgeAction {
    /// No short yet: sell futures.
    OpenShort,
    /// Short below target: sell more.
    IncreaseShort,
    /// Short above target: buy back (reduce-only).
    ReduceShort,
    /// No spot left to hedge: buy back all (reduce-only).
    Close,
}

/// One recommended order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    /// Contract.
    pub symbol: Symbol,
    /// What to do.
    pub action: HedgeAction,
    /// Base quantity, a multiple of the step size.
    #[serde(with = "alphapulse_domain::decimal")]
    pub quantity: Decimal,
    /// Why.
    pub reason: String,
}

/// Exposure of one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetExposure {
    /// Symbol.
    pub symbol: Symbol,
    /// Spot quantity held.
    #[serde(with = "alphapulse_domain::decimal")]
    pub spot_quantity: Decimal,
    /// Spot value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub spot_value: Decimal,
    /// Short futures quantity.
    #[serde(with = "alphapulse_domain::decimal")]
    pub short_quantity: Decimal,
    /// Short futures notional.
    #[serde(with = "alphapulse_domain::decimal")]
    pub short_notional: Decimal,
    /// Long futures notional.
    #[serde(with = "alphapulse_domain::decimal")]
    pub long_notional: Decimal,
    /// Spot + long - short.
    #[serde(with = "alphapulse_domain::decimal")]
    pub net_exposure: Decimal,
    /// Short notional / spot value (0 without spot).
    pub hedge_ratio: f64,
}

/// The analysis of `GET /api/v1/hedging/analysis`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HedgeAnalysis {
    /// Total spot value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub spot_value: Decimal,
    /// Gross futures notional.
    #[serde(with = "alphapulse_domain::decimal")]
    pub futures_notional: Decimal,
    /// Spot + long - short notional.
    #[serde(with = "alphapulse_domain::decimal")]
    pub net_exposure: Decimal,
    /// Short notional on held assets / their spot value.
    pub hedge_ratio: f64,
    /// The ratio the recommendations aim at.
    pub target_hedge_ratio: f64,
    /// Per asset, largest spot value first.
    pub assets: Vec<AssetExposure>,
    /// Orders that bring every asset to the target.
    pub recommendations: Vec<Recommendation>,
}

#[derive(Default)]
struct Acc {
    spot_qty: Decimal,
    spot_value: Decimal,
    short_qty: Decimal,
    short_notional: Decimal,
    long_notional: Decimal,
}

fn ratio(num: Decimal, den: Decimal) -> f64 {
    if den.is_zero() {
        0.0
    } else {
        (num / den).to_f64().unwrap_or(0.0)
    }
}

/// Analyses valued positions against `target` (clamped to `0..=1`).
pub fn analyse(
    spot: &[SpotPosition],
    futures: &[FuturesPositionView],
    target: f64,
) -> HedgeAnalysis {
    let target = if target.is_finite() {
        target.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let target_dec = Decimal::from_f64(target).unwrap_or(Decimal::ONE);
    let mut assets: BTreeMap<Symbol, Acc> = BTreeMap::new();
    for s in spot {
        let a = assets.entry(s.symbol.clone()).or_default();
        a.spot_qty += s.quantity;
        a.spot_value += s.value;
    }
    for f in futures {
        let a = assets.entry(f.symbol.clone()).or_default();
        match f.side {
            PositionSide::Short => {
                a.short_qty += f.quantity;
                a.short_notional += f.notional;
            }
            PositionSide::Long => a.long_notional += f.notional,
        }
    }
    let mut exposures = Vec::new();
    let mut recommendations = Vec::new();
    for (symbol, a) in &assets {
        let step = step_size(symbol);
        let desired = round_down(a.spot_qty * target_dec, step);
        let current = a.short_qty;
        let rec = |action, quantity: Decimal, reason: String| Recommendation {
            symbol: symbol.clone(),
            action,
            quantity: quantity.normalize(),
            reason,
        };
        if current.is_zero() && desired > Decimal::ZERO {
            recommendations.push(rec(
                HedgeAction::OpenShort,
                desired,
                format!(
                    "unhedged spot of {} {symbol}; target ratio {target}",
                    a.spot_qty.normalize()
                ),
            ));
        } else if desired.is_zero() && current > Decimal::ZERO {
            recommendations.push(rec(
                HedgeAction::Close,
                current,
                "short hedge without spot to protect".to_owned(),
            ));
        } else {
            let diff = round_down((desired - current).abs(), step);
            if diff > Decimal::ZERO && desired > current {
                recommendations.push(rec(
                    HedgeAction::IncreaseShort,
                    diff,
                    format!(
                        "hedge ratio {:.3} below target {target}",
                        ratio(a.short_notional, a.spot_value)
                    ),
                ));
            } else if diff > Decimal::ZERO && desired < current {
                recommendations.push(rec(
                    HedgeAction::ReduceShort,
                    diff,
                    format!(
                        "hedge ratio {:.3} above target {target}",
                        ratio(a.short_notional, a.spot_value)
                    ),
                ));
            }
        }
        exposures.push(AssetExposure {
            symbol: symbol.clone(),
            spot_quantity: a.spot_qty,
            spot_value: a.spot_value,
            short_quantity: a.short_qty,
            short_notional: a.short_notional,
            long_notional: a.long_notional,
            net_exposure: a.spot_value + a.long_notional - a.short_notional,
            hedge_ratio: ratio(a.short_notional, a.spot_value),
        });
    }
    exposures.sort_by(|x, y| {
        y.spot_value
            .cmp(&x.spot_value)
            .then_with(|| x.symbol.cmp(&y.symbol))
    });
    let m = crate::metrics(spot, futures);
    HedgeAnalysis {
        spot_value: m.spot_value,
        futures_notional: m.futures_notional,
        net_exposure: m.net_exposure,
        hedge_ratio: m.hedge_ratio,
        target_hedge_ratio: target,
        assets: exposures,
        recommendations,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn spot(symbol: &str, qty: Decimal, price: Decimal) -> SpotPosition {
        SpotPosition {
            symbol: Symbol::parse(symbol).unwrap(),
            quantity: qty,
            avg_price: price,
            current_price: price,
            value: qty * price,
            unrealized_pnl: dec!(0),
        }
    }

    fn short(symbol: &str, qty: Decimal, price: Decimal) -> FuturesPositionView {
        FuturesPositionView {
            symbol: Symbol::parse(symbol).unwrap(),
            side: PositionSide::Short,
            quantity: qty,
            entry_price: price,
            mark_price: price,
            leverage: dec!(1),
            notional: qty * price,
            unrealized_pnl: dec!(0),
            liquidation_price: None,
        }
    }

    #[test]
    fn recommendations_bring_each_asset_to_the_target() {
        let s = [
            spot("BTCUSDT", dec!(2.0005), dec!(50000)),
            spot("ETHUSDT", dec!(10), dec!(2000)),
            spot("SOLUSDT", dec!(100), dec!(100)),
        ];
        let f = [
            short("ETHUSDT", dec!(2), dec!(2000)),
            short("SOLUSDT", dec!(150), dec!(100)),
            short("XRPUSDT", dec!(1000), dec!(0.5)),
        ];
        let a = analyse(&s, &f, 1.0);
        let by: BTreeMap<&str, &Recommendation> = a
            .recommendations
            .iter()
            .map(|r| (r.symbol.as_str(), r))
            .collect();
        // BTC: 2.0005 rounded down to the 0.001 step.
        assert_eq!(
            (by["BTCUSDT"].action, by["BTCUSDT"].quantity),
            (HedgeAction::OpenShort, dec!(2))
        );
        assert_eq!(
            (by["ETHUSDT"].action, by["ETHUSDT"].quantity),
            (HedgeAction::IncreaseShort, dec!(8))
        );
        assert_eq!(
            (by["SOLUSDT"].action, by["SOLUSDT"].quantity),
            (HedgeAction::ReduceShort, dec!(50))
        );
        assert_eq!(
            (by["XRPUSDT"].action, by["XRPUSDT"].quantity),
            (HedgeAction::Close, dec!(1000))
        );
        assert_eq!(a.assets[0].symbol.as_str(), "BTCUSDT");
        assert_eq!(a.target_hedge_ratio, 1.0);
    }

    #[test]
    fn a_half_hedge_target_and_nothing_to_do() {
        let s = [spot("BTCUSDT", dec!(2), dec!(50000))];
        let f = [short("BTCUSDT", dec!(1), dec!(50000))];
        let a = analyse(&s, &f, 0.5);
        assert!(a.recommendations.is_empty(), "{:?}", a.recommendations);
        assert!((a.hedge_ratio - 0.5).abs() < 1e-12);
        let none = analyse(&s, &f, 0.0);
        assert_eq!(none.recommendations[0].action, HedgeAction::Close);
    }

    #[test]
    fn rounding_never_rounds_up() {
        assert_eq!(round_down(dec!(1.23456), dec!(0.001)), dec!(1.234));
        assert_eq!(round_down(dec!(0.0009), dec!(0.001)), dec!(0));
        assert_eq!(round_down(dec!(7.9), dec!(1)), dec!(7));
    }

    /// Symbols with each kind of step: 0.001, 1, 0.1, 0.01, and one not in the table.
    const SYMBOLS: [&str; 5] = ["BTCUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "FOOUSDT"];

    /// A non-negative decimal with up to 8 places, up to 10^12 / 10^scale.
    fn quantity() -> impl Strategy<Value = Decimal> {
        (0i64..1_000_000_000_000, 0u32..=8).prop_map(|(m, scale)| Decimal::new(m, scale))
    }

    fn price() -> impl Strategy<Value = Decimal> {
        (1i64..100_000_000, 0u32..=4).prop_map(|(m, scale)| Decimal::new(m, scale))
    }

    /// A target in `0..=1` as a client writes it (a decimal of up to 15 significant digits,
    /// which a float tells apart from every other such decimal) and as the API reads it (the
    /// nearest float): thousandths, any 15-digit fraction, and both ends.
    fn target() -> impl Strategy<Value = (Decimal, f64)> {
        prop_oneof![
            (0i64..=1000).prop_map(|k| Decimal::new(k, 3)),
            (0i64..=1_000_000_000_000_000).prop_map(|m| Decimal::new(m, 15)),
            Just(Decimal::ZERO),
            Just(Decimal::ONE),
        ]
        .prop_map(|d| (d, d.to_f64().unwrap()))
    }

    /// One asset: spot lots (0 to 2), a short that is a whole number of steps (as venues
    /// hold them), maybe a long, at one price.
    #[derive(Debug, Clone)]
    struct Asset {
        symbol: &'static str,
        lots: Vec<Decimal>,
        short_steps: Option<u64>,
        long: Option<Decimal>,
        price: Decimal,
    }

    fn asset(symbol: &'static str) -> impl Strategy<Value = Asset> {
        (
            prop::collection::vec(quantity(), 0..=2),
            prop::option::of(0u64..10_000_000),
            prop::option::of(quantity()),
            price(),
        )
            .prop_map(move |(lots, short_steps, long, price)| Asset {
                symbol,
                lots,
                short_steps,
                long,
                price,
            })
    }

    fn book() -> impl Strategy<Value = Vec<Asset>> {
        prop::sample::subsequence(SYMBOLS.to_vec(), 1..=SYMBOLS.len())
            .prop_flat_map(|symbols| symbols.into_iter().map(asset).collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn recommended_shorts_never_exceed_the_target_and_are_whole_steps(
            assets in book(),
            (written, target) in target(),
        ) {
            let mut spot_in = Vec::new();
            let mut futures_in = Vec::new();
            for a in &assets {
                let symbol = Symbol::parse(a.symbol).unwrap();
                for lot in &a.lots {
                    spot_in.push(spot(a.symbol, *lot, a.price));
                }
                if let Some(steps) = a.short_steps {
                    futures_in.push(short(a.symbol, Decimal::from(steps) * step_size(&symbol), a.price));
                }
                if let Some(qty) = a.long {
                    let mut long = short(a.symbol, qty, a.price);
                    long.side = PositionSide::Long;
                    futures_in.push(long);
                }
            }
            let analysis = analyse(&spot_in, &futures_in, target);
            prop_assert_eq!(analysis.target_hedge_ratio, target);
            // target x spot with the target the client wrote.
            let exact_target = written;
            for a in &assets {
                let symbol = Symbol::parse(a.symbol).unwrap();
                let step = step_size(&symbol);
                let spot_qty: Decimal = a.lots.iter().copied().sum();
                let current = a.short_steps.map_or(Decimal::ZERO, |s| Decimal::from(s) * step);
                let recs: Vec<&Recommendation> = analysis
                    .recommendations
                    .iter()
                    .filter(|r| r.symbol == symbol)
                    .collect();
                prop_assert!(recs.len() <= 1, "{}: {:?}", a.symbol, recs);
                let after = match recs.first() {
                    None => current,
                    Some(r) => {
                        prop_assert!(r.quantity > Decimal::ZERO, "{:?}", r);
                        prop_assert!(
                            (r.quantity % step).is_zero(),
                            "{} not a multiple of the step {}", r.quantity, step
                        );
                        match r.action {
                            HedgeAction::OpenShort => {
                                prop_assert!(current.is_zero(), "{:?}", r);
                                r.quantity
                            }
                            HedgeAction::IncreaseShort => current + r.quantity,
                            HedgeAction::ReduceShort => {
                                prop_assert!(r.quantity < current, "{:?} of {}", r, current);
                                current - r.quantity
                            }
                            HedgeAction::Close => {
                                prop_assert_eq!(r.quantity, current);
                                Decimal::ZERO
                            }
                        }
                    }
                };
                // Never over the target ...
                let limit = spot_qty * exact_target;
                prop_assert!(
                    after <= limit,
                    "{}: short after the orders {} > target {} x spot {}",
                    a.symbol, after, target, spot_qty
                );
                // ... and short of it by less than one step (else an order is missing).
                prop_assert!(
                    limit - after < step,
                    "{}: short after the orders {} leaves a whole step of {} unhedged",
                    a.symbol, after, limit
                );
            }
        }
    }
}
