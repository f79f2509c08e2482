//! The Binance spot REST API (`/api/v3`).

use std::collections::BTreeMap;

use alphapulse_domain::{
    Candle, ExchangeError, Market, OrderAck, OrderRequest, Side, SpotBalance, Symbol,
};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{http::HttpCore, parse, BinanceCredentials, BinanceVenue};

/// The largest `limit` `GET /api/v3/klines` accepts.
pub const MAX_KLINES: u32 = 1_000;

/// A blocking client for one spot account.
#[derive(Debug, Clone)]
pub struct BinanceSpot {
    http: HttpCore,
    quote_asset: String,
}

impl BinanceSpot {
    /// A client for the venue's `spot_base_url`.
    ///
    /// # Errors
    /// Invalid base URL (or `https` without the `tls` feature), empty credentials, a
    /// `recv_window_ms` outside `1..=60000`, or an HTTP client that cannot be built.
    pub fn new(
        credentials: &BinanceCredentials,
        venue: &BinanceVenue,
    ) -> Result<Self, ExchangeError> {
        let config = venue.config();
        Ok(Self {
            http: HttpCore::new(venue, &config.spot_base_url, credentials)?,
            quote_asset: config.quote_asset.clone(),
        })
    }

    /// Non-zero holdings (free + locked) from `GET /api/v3/account`, the quote asset excluded,
    /// each valued through `ASSET + quote asset` (e.g. `BTCUSDT`).
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn balances(&self) -> Result<Vec<SpotBalance>, ExchangeError> {
        let account: parse::AccountDto = self.http.get_signed("/api/v3/account", &[])?;
        parse::spot_balances(account, &self.quote_asset)
    }

    /// The quote asset's balance (free + locked) from `GET /api/v3/account`.
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn quote_balance(&self) -> Result<Decimal, ExchangeError> {
        let account: parse::AccountDto = self.http.get_signed("/api/v3/account", &[])?;
        parse::quote_balance(&account, &self.quote_asset)
    }

    /// The asset holdings are valued in (e.g. `USDT`).
    pub fn quote_asset(&self) -> &str {
        &self.quote_asset
    }

    /// Last prices of `symbols` from `GET /api/v3/ticker/price`. Symbols the venue does not list
    /// are absent from the map.
    ///
    /// The whole ticker is fetched (the same request weight as a `symbols` list, and an unknown
    /// symbol does not fail the other ones).
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn prices(&self, symbols: &[Symbol]) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        if symbols.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows: Vec<parse::TickerPriceDto> = self.http.get_public("/api/v3/ticker/price", &[])?;
        parse::ticker_prices(symbols, &rows)
    }

    /// The latest `limit` daily candles of `symbol` from `GET /api/v3/klines`, oldest first
    /// (the current, unfinished day included). `limit` is capped at [`MAX_KLINES`]; 0 asks
    /// nothing.
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn daily_candles(&self, symbol: &Symbol, limit: u32) -> Result<Vec<Candle>, ExchangeError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let params = [
            ("symbol", symbol.as_str().to_owned()),
            ("interval", "1d".to_owned()),
            ("limit", limit.min(MAX_KLINES).to_string()),
        ];
        let rows: Vec<Vec<Value>> = self.http.get_public("/api/v3/klines", &params)?;
        parse::klines(symbol, &rows)
    }

    /// Places a `MARKET` order with `POST /api/v3/order` (`newOrderRespType=FULL`), tagged with
    /// the caller's `newClientOrderId`. `reduce_only` has no meaning on spot and is ignored.
    ///
    /// # Errors
    /// [`ExchangeError::Other`] for a futures order; otherwise see [`super::error`]. On
    /// [`ExchangeError::Unavailable`] the order may have been placed.
    pub fn place_market_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        if order.market != Market::Spot {
            return Err(ExchangeError::Other(
                "a futures order was sent to the spot client".to_owned(),
            ));
        }
        let params = [
            ("symbol", order.symbol.as_str().to_owned()),
            ("side", side(order.side).to_owned()),
            ("type", "MARKET".to_owned()),
            ("quantity", order.quantity.normalize().to_string()),
            ("newClientOrderId", order.client_order_id.clone()),
            ("newOrderRespType", "FULL".to_owned()),
        ];
        let ack: parse::SpotOrderDto = self.http.post_signed("/api/v3/order", &params)?;
        parse::spot_order_ack(ack, &self.quote_asset)
    }
}

/// Binance's spelling of a side.
pub(crate) fn side(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}
