//! A demo tenant's paper exchange account (activated only if it has no active account) and
//! its spot holdings and futures positions (set only if it holds no position at all), sized
//! from USD notionals at the latest closes.

use alphapulse_domain::{
    ports::{Actor, AdapterKind, NewExchangeAccount},
    FuturesPosition, Market, PositionSide, Symbol,
};
use anyhow::{anyhow, Context, Result};
use rust_decimal::Decimal;

use super::{demo_fee_rate, BookSpec, DemoMarket, DemoMarketCounts, Size, ACCOUNT_LABEL};

impl DemoMarket<'_> {
    /// Activates the book's paper account unless the tenant has an active account.
    pub(super) fn seed_account(
        &self,
        actor: &Actor,
        spec: &BookSpec,
        counts: &mut DemoMarketCounts,
    ) -> Result<()> {
        if self
            .accounts
            .active(actor)
            .context("reading the exchange account")?
            .is_none()
        {
            let account = self
                .accounts
                .activate(
                    actor,
                    NewExchangeAccount {
                        adapter: AdapterKind::Paper,
                        label: ACCOUNT_LABEL.to_owned(),
                        credentials_encrypted: None,
                        paper_cash: Decimal::from(spec.paper_cash_usd),
                        fee_rate: demo_fee_rate(),
                    },
                )
                .context("activating the paper account")?;
            counts.accounts_created += 1;
            tracing::info!(tenant = spec.slug, account_id = %account.id, "activated demo paper account");
        }
        Ok(())
    }

    /// Sets the book's positions unless the tenant holds any spot or futures position.
    pub(super) fn seed_positions(
        &self,
        actor: &Actor,
        spec: &BookSpec,
        counts: &mut DemoMarketCounts,
    ) -> Result<()> {
        let spot_held = self
            .paper
            .spot_holdings(actor)
            .context("reading spot holdings")?;
        let futures_held = self
            .paper
            .futures_positions(actor)
            .context("reading futures positions")?;
        if spot_held.is_empty() && futures_held.is_empty() {
            let positions = self.book_positions(actor, spec)?;
            for (market, position) in &positions {
                self.paper
                    .set_position(actor, *market, position)
                    .with_context(|| {
                        format!("setting the {market} {} position", position.symbol)
                    })?;
            }
            counts.positions_set += positions.len();
            counts.books_filled += 1;
            tracing::info!(
                tenant = spec.slug,
                positions = positions.len(),
                "set demo positions"
            );
        }
        Ok(())
    }

    /// The spot holdings and futures positions of `spec` at the latest closes.
    fn book_positions(
        &self,
        actor: &Actor,
        spec: &BookSpec,
    ) -> Result<Vec<(Market, FuturesPosition)>> {
        let symbols = spec
            .spot
            .iter()
            .map(|h| h.symbol)
            .chain(spec.futures.iter().map(|f| f.symbol))
            .map(|s| Symbol::parse(s).map_err(|e| anyhow!(e)))
            .collect::<Result<Vec<_>>>()?;
        let closes = self
            .market
            .latest_closes(actor, &symbols)
            .context("reading the latest closes")?;
        let close = |symbol: &Symbol| {
            closes
                .get(symbol)
                .copied()
                .filter(|p| *p > Decimal::ZERO)
                .with_context(|| format!("no market data for {symbol}"))
        };
        let mut out = Vec::with_capacity(spec.spot.len() + spec.futures.len());
        for holding in spec.spot {
            let symbol = Symbol::parse(holding.symbol).map_err(|e| anyhow!(e))?;
            let price = close(&symbol)?;
            let quantity = round_quantity(Decimal::from(holding.notional_usd) / price, price);
            let avg_price = round_price(price * bp(holding.cost_bp));
            out.push((
                Market::Spot,
                position(symbol, PositionSide::Long, quantity, avg_price, 1),
            ));
        }
        for f in spec.futures {
            let symbol = Symbol::parse(f.symbol).map_err(|e| anyhow!(e))?;
            let price = close(&symbol)?;
            let raw = match f.size {
                Size::OfSpot(share) => {
                    let spot = out
                        .iter()
                        .find(|(m, p)| *m == Market::Spot && p.symbol == symbol)
                        .map(|(_, p)| p.quantity)
                        .with_context(|| format!("{} hedges {symbol} but holds none", spec.slug))?;
                    spot * bp(share)
                }
                Size::Notional(usd) => Decimal::from(usd) / price,
            };
            let quantity = round_quantity(raw, price);
            let entry = round_price(price * bp(f.entry_bp));
            out.push((
                Market::Futures,
                position(symbol, f.side, quantity, entry, f.leverage),
            ));
        }
        out.retain(|(_, p)| p.quantity > Decimal::ZERO && p.entry_price > Decimal::ZERO);
        Ok(out)
    }
}

/// A position of `quantity` at `entry_price` (no mark or liquidation price yet).
pub(super) fn position(
    symbol: Symbol,
    side: PositionSide,
    quantity: Decimal,
    entry_price: Decimal,
    leverage: u32,
) -> FuturesPosition {
    FuturesPosition {
        symbol,
        side,
        quantity,
        entry_price,
        mark_price: None,
        leverage: Decimal::from(leverage),
        liquidation_price: None,
    }
}

/// `basis_points` as a fraction (10 000 bp = 1).
fn bp(basis_points: i64) -> Decimal {
    Decimal::new(basis_points, 4)
}

/// Fewer decimals for cheap coins: 4 above 1000 USD, 2 above 1 USD, whole units below.
pub(super) fn round_quantity(quantity: Decimal, price: Decimal) -> Decimal {
    let dp = if price >= Decimal::from(1000) {
        4
    } else if price >= Decimal::ONE {
        2
    } else {
        0
    };
    quantity.round_dp(dp).normalize()
}

/// Cents above 100 USD, 4 decimals above 1 USD, 6 below.
pub(super) fn round_price(price: Decimal) -> Decimal {
    let dp = if price >= Decimal::from(100) {
        2
    } else if price >= Decimal::ONE {
        4
    } else {
        6
    };
    price.round_dp(dp).normalize()
}
