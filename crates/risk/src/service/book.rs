//! The tenant's book as its exchange account reports it now: cash, spot holdings and futures
//! positions, each valued at its latest price.
//!
//! Valuation (every amount in the quote asset, `USDT`):
//! - a spot holding's market value is `q·p` and it adds `q·p` to the net asset value;
//! - a futures position's market value (its exposure) is `+q·p` long, `−q·p` short; margin
//!   stays in the account's cash, so it adds only its unrealised PnL
//!   (`(p − entry)·q` long, `(entry − p)·q` short) to the net asset value;
//! - net asset value (`total_value`) = cash + Σ spot values + Σ futures PnL;
//! - a position without a known price is valued at its entry price (`priced = false`).

use std::{collections::BTreeMap, future::Future};

use alphapulse_domain::{
    ports::{Actor, HoldingValue, NewPortfolioSnapshot},
    AccountView, ExchangeClient, ExchangeError, Market, PositionSide, Symbol,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// One position valued.
#[derive(Debug, Clone, PartialEq)]
pub struct BookPosition {
    /// Instrument.
    pub symbol: Symbol,
    /// Spot or futures.
    pub market: Market,
    /// Long or short (spot is always long).
    pub side: PositionSide,
    /// Absolute quantity.
    pub quantity: Decimal,
    /// Average entry price (the current price when the venue does not know it).
    pub entry_price: Decimal,
    /// Latest price, when known.
    pub price: Option<Decimal>,
}

impl BookPosition {
    /// The price it is valued at: the latest, else the entry price.
    pub fn mark(&self) -> Decimal {
        self.price.unwrap_or(self.entry_price)
    }

    /// Signed exposure: `q·p`, negative for a short.
    pub fn market_value(&self) -> Decimal {
        let v = self.quantity * self.mark();
        match self.side {
            PositionSide::Long => v,
            PositionSide::Short => -v,
        }
    }

    /// Unrealised PnL against the entry price.
    pub fn pnl(&self) -> Decimal {
        let diff = (self.mark() - self.entry_price) * self.quantity;
        match self.side {
            PositionSide::Long => diff,
            PositionSide::Short => -diff,
        }
    }

    /// What the position adds to the net asset value: its value for spot, its PnL for futures.
    pub fn nav_contribution(&self) -> Decimal {
        match self.market {
            Market::Spot => self.market_value(),
            Market::Futures => self.pnl(),
        }
    }

    /// `pnl / (q · entry)`; `None` for a zero cost.
    pub fn pnl_fraction(&self) -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        let cost = self.quantity * self.entry_price;
        if cost.is_zero() {
            return None;
        }
        self.pnl()
            .checked_div(cost)
            .and_then(|r| r.to_f64())
            .filter(|r| r.is_finite())
    }
}

/// The tenant's book.
#[derive(Debug, Clone, PartialEq)]
pub struct Book {
    /// Quote-asset cash.
    pub cash: Decimal,
    /// Spot holdings then futures positions, by symbol.
    pub positions: Vec<BookPosition>,
    /// When it was read.
    pub fetched_at: DateTime<Utc>,
}

impl Book {
    /// Reads the book from the tenant's exchange account.
    ///
    /// # Errors
    /// The exchange's.
    pub fn read(
        exchange: &dyn ExchangeClient,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Self, ExchangeError> {
        let view = exchange.account_view(actor)?;
        let unpriced: Vec<Symbol> = view
            .futures
            .iter()
            .filter(|p| !p.quantity.is_zero() && p.mark_price.is_none())
            .map(|p| p.symbol.clone())
            .collect();
        let marks = if unpriced.is_empty() {
            BTreeMap::new()
        } else {
            exchange.prices(actor, Market::Futures, &unpriced)?
        };
        Ok(Self::of(view, &marks, now))
    }

    /// [`Book::read`] without blocking a thread, when the exchange client can serve the
    /// account view so (a cached paper account: its futures come marked at the latest closes,
    /// and one without a close has no price, as the paper exchange's `prices` would answer);
    /// `None`: call [`Book::read`] on a blocking thread.
    pub fn read_nonblocking(
        exchange: &dyn ExchangeClient,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Option<impl Future<Output = Result<Self, ExchangeError>> + Send + 'static> {
        let view = exchange.account_view_nonblocking(actor)?;
        Some(async move { Ok(Self::of(view.await?, &BTreeMap::new(), now)) })
    }

    /// The book of an account view; futures without a mark take theirs from `marks`.
    fn of(view: AccountView, marks: &BTreeMap<Symbol, Decimal>, now: DateTime<Utc>) -> Self {
        let mut positions: Vec<BookPosition> = view
            .spot
            .into_iter()
            .filter(|(b, _)| !b.quantity.is_zero())
            .map(|(b, price)| BookPosition {
                entry_price: b.avg_price.or(price).unwrap_or_default(),
                symbol: b.symbol,
                market: Market::Spot,
                side: PositionSide::Long,
                quantity: b.quantity.abs(),
                price,
            })
            .collect();
        let futures = view.futures.into_iter().filter(|p| !p.quantity.is_zero());
        positions.extend(futures.map(|p| BookPosition {
            price: p.mark_price.or_else(|| marks.get(&p.symbol).copied()),
            symbol: p.symbol,
            market: Market::Futures,
            side: p.side,
            quantity: p.quantity.abs(),
            entry_price: p.entry_price,
        }));
        Self {
            cash: view.cash,
            positions,
            fetched_at: now,
        }
    }

    /// Spot values plus futures PnL.
    pub fn positions_value(&self) -> Decimal {
        self.positions
            .iter()
            .map(BookPosition::nav_contribution)
            .sum()
    }

    /// Net asset value: cash plus [`Book::positions_value`].
    pub fn total_value(&self) -> Decimal {
        self.cash + self.positions_value()
    }

    /// `Σ |market value|` over every position.
    pub fn gross_exposure(&self) -> Decimal {
        self.positions.iter().map(|p| p.market_value().abs()).sum()
    }

    /// Signed net exposure per symbol (spot plus futures of the same symbol), zero nets left
    /// out.
    pub fn net_by_symbol(&self) -> BTreeMap<Symbol, Decimal> {
        let mut net: BTreeMap<Symbol, Decimal> = BTreeMap::new();
        for p in &self.positions {
            *net.entry(p.symbol.clone()).or_default() += p.market_value();
        }
        net.retain(|_, v| !v.is_zero());
        net
    }

    /// The book as a snapshot row.
    pub fn snapshot(&self) -> NewPortfolioSnapshot {
        NewPortfolioSnapshot {
            total_value: self.total_value(),
            cash: self.cash,
            positions_value: self.positions_value(),
            gross_exposure: self.gross_exposure(),
            holdings: self
                .positions
                .iter()
                .map(|p| HoldingValue {
                    symbol: p.symbol.clone(),
                    market: p.market,
                    side: p.side,
                    quantity: p.quantity,
                    price: p.mark(),
                    value: p.market_value(),
                })
                .collect(),
            taken_at: self.fetched_at,
        }
    }

    /// A fingerprint of what the risk figures depend on (cash, positions, prices): equal
    /// books give equal fingerprints, so cached series can be keyed by it.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.cash.normalize().hash(&mut h);
        for p in &self.positions {
            p.symbol.hash(&mut h);
            p.market.hash(&mut h);
            p.side.hash(&mut h);
            p.quantity.normalize().hash(&mut h);
            p.mark().normalize().hash(&mut h);
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn pos(
        symbol: &str,
        market: Market,
        side: PositionSide,
        q: Decimal,
        entry: Decimal,
        price: Option<Decimal>,
    ) -> BookPosition {
        BookPosition {
            symbol: Symbol::parse(symbol).unwrap(),
            market,
            side,
            quantity: q,
            entry_price: entry,
            price,
        }
    }

    #[test]
    fn valuation_by_hand() {
        // Cash 1000; 2 BTC spot bought at 100, now 150 -> value 300, pnl +100;
        // 1 BTC futures short from 160, now 150 -> exposure -150, pnl +10;
        // 10 SOL spot without a price, entry 5 -> valued 50 at entry.
        let book = Book {
            cash: dec!(1000),
            positions: vec![
                pos(
                    "BTCUSDT",
                    Market::Spot,
                    PositionSide::Long,
                    dec!(2),
                    dec!(100),
                    Some(dec!(150)),
                ),
                pos(
                    "BTCUSDT",
                    Market::Futures,
                    PositionSide::Short,
                    dec!(1),
                    dec!(160),
                    Some(dec!(150)),
                ),
                pos(
                    "SOLUSDT",
                    Market::Spot,
                    PositionSide::Long,
                    dec!(10),
                    dec!(5),
                    None,
                ),
            ],
            fetched_at: Utc::now(),
        };
        assert_eq!(book.positions_value(), dec!(360)); // 300 + 10 + 50
        assert_eq!(book.total_value(), dec!(1360));
        assert_eq!(book.gross_exposure(), dec!(500)); // 300 + 150 + 50
        let net = book.net_by_symbol();
        assert_eq!(net[&Symbol::parse("BTCUSDT").unwrap()], dec!(150));
        assert_eq!(net[&Symbol::parse("SOLUSDT").unwrap()], dec!(50));
        assert_eq!(book.positions[0].pnl_fraction(), Some(0.5));
        assert_eq!(book.positions[1].pnl(), dec!(10));
        let snap = book.snapshot();
        assert_eq!(snap.holdings[1].value, dec!(-150));
        assert_eq!(snap.total_value, dec!(1360));
    }

    /// The non-blocking read builds the same book from an account view whose futures come
    /// marked (the paper exchange's) as the blocking read does with `prices` for the marks;
    /// a future without a mark stays unpriced on both paths.
    #[test]
    fn the_nonblocking_read_builds_the_blocking_book() {
        use alphapulse_domain::{
            exchange::MockExchangeClient, FuturesPosition, SpotBalance, TenantId,
        };
        use futures_util::FutureExt as _;

        let sym = |s: &str| Symbol::parse(s).unwrap();
        let future = move |symbol: &str, mark| FuturesPosition {
            symbol: sym(symbol),
            side: PositionSide::Short,
            quantity: dec!(1),
            entry_price: dec!(160),
            mark_price: mark,
            leverage: dec!(2),
            liquidation_price: None,
        };
        let view = move |marked: bool| AccountView {
            spot: vec![(
                SpotBalance {
                    symbol: sym("BTCUSDT"),
                    asset: "BTC".into(),
                    quantity: dec!(2),
                    avg_price: Some(dec!(100)),
                },
                Some(dec!(150)),
            )],
            futures: vec![
                future("BTCUSDT", marked.then_some(dec!(150))),
                future("ETHUSDT", None),
            ],
            cash: dec!(1000),
        };
        let mut ex = MockExchangeClient::new();
        ex.expect_account_view().returning(move |_| Ok(view(false)));
        ex.expect_prices()
            .returning(move |_, _, _| Ok(BTreeMap::from([(sym("BTCUSDT"), dec!(150))])));
        ex.expect_account_view_nonblocking()
            .returning(move |_| Some(Box::pin(async move { Ok(view(true)) })));
        let actor = Actor::system(TenantId::new_random());
        let now = Utc::now();
        let blocking = Book::read(&ex, &actor, now).unwrap();
        assert_eq!(
            blocking
                .positions
                .iter()
                .map(|p| p.price)
                .collect::<Vec<_>>(),
            vec![Some(dec!(150)), Some(dec!(150)), None]
        );
        let read = Book::read_nonblocking(&ex, &actor, now).expect("offered");
        let fast = read.now_or_never().expect("a ready answer");
        let fast = fast.unwrap();
        assert_eq!(
            (fast.cash, fast.positions, fast.fetched_at),
            (blocking.cash, blocking.positions, blocking.fetched_at)
        );

        let mut ex = MockExchangeClient::new();
        ex.expect_account_view_nonblocking().returning(|_| None);
        assert!(Book::read_nonblocking(&ex, &actor, now).is_none());
    }

    #[test]
    fn an_empty_book_is_its_cash() {
        let book = Book {
            cash: dec!(0),
            positions: vec![],
            fetched_at: Utc::now(),
        };
        assert_eq!(book.total_value(), dec!(0));
        assert!(book.net_by_symbol().is_empty());
        assert_eq!(
            book.positions.first().and_then(BookPosition::pnl_fraction),
            None
        );
    }
}
