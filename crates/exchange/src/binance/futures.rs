//! The Binance USD-M futures REST API (`/fapi`).
//!
//! Assumes the account is in one-way position mode (Binance's default): orders are sent without
//! `positionSide`, and `reduceOnly` is only accepted in that mode.

use std::collections::BTreeMap;

use alphapulse_domain::{ExchangeError, FuturesPosition, Market, OrderAck, OrderRequest, Symbol};
use rust_decimal::Decimal;

use super::{
    http::HttpCore, parse, spot::side, BinanceCredentials, BinanceVenue, FuturesAssetBalance,
};

/// A blocking client for one USD-M futures account.
#[derive(Debug, Clone)]
pub struct BinanceFutures {
    http: HttpCore,
}

impl BinanceFutures {
    /// A client for the venue's `futures_base_url`.
    ///
    /// # Errors
    /// As [`super::BinanceSpot::new`].
    pub fn new(
        credentials: &BinanceCredentials,
        venue: &BinanceVenue,
    ) -> Result<Self, ExchangeError> {
        Ok(Self {
            http: HttpCore::new(venue, &venue.config().futures_base_url, credentials)?,
        })
    }

    /// Open positions from `GET /fapi/v2/positionRisk` (rows with a zero `positionAmt` dropped;
    /// negative amounts are shorts).
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn positions(&self) -> Result<Vec<FuturesPosition>, ExchangeError> {
        let rows: Vec<parse::PositionRiskDto> =
            self.http.get_signed("/fapi/v2/positionRisk", &[])?;
        parse::positions(rows)
    }

    /// Wallet balances per margin asset from `GET /fapi/v2/balance` (all-zero rows dropped).
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn balances(&self) -> Result<Vec<FuturesAssetBalance>, ExchangeError> {
        let rows: Vec<parse::FuturesBalanceDto> = self.http.get_signed("/fapi/v2/balance", &[])?;
        parse::futures_balances(rows)
    }

    /// Mark prices of `symbols` from `GET /fapi/v1/premiumIndex` (all symbols are fetched; ones
    /// the venue does not list are absent from the map).
    ///
    /// # Errors
    /// See [`super::error`].
    pub fn mark_prices(
        &self,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        if symbols.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows: Vec<parse::PremiumIndexDto> =
            self.http.get_public("/fapi/v1/premiumIndex", &[])?;
        parse::mark_prices(symbols, &rows)
    }

    /// Places a `MARKET` order with `POST /fapi/v1/order` (`newOrderRespType=RESULT`, so the
    /// answer carries the fill), tagged with the caller's `newClientOrderId`; `reduceOnly=true`
    /// is sent when asked. The answer has no commission: the ack's `fee` is zero.
    ///
    /// # Errors
    /// [`ExchangeError::Other`] for a spot order; otherwise see [`super::error`]. On
    /// [`ExchangeError::Unavailable`] the order may have been placed.
    pub fn place_market_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        if order.market != Market::Futures {
            return Err(ExchangeError::Other(
                "a spot order was sent to the futures client".to_owned(),
            ));
        }
        let mut params = vec![
            ("symbol", order.symbol.as_str().to_owned()),
            ("side", side(order.side).to_owned()),
            ("type", "MARKET".to_owned()),
            ("quantity", order.quantity.normalize().to_string()),
        ];
        if order.reduce_only {
            params.push(("reduceOnly", "true".to_owned()));
        }
        params.push(("newClientOrderId", order.client_order_id.clone()));
        params.push(("newOrderRespType", "RESULT".to_owned()));
        let ack: parse::FuturesOrderDto = self.http.post_signed("/fapi/v1/order", &params)?;
        parse::futures_order_ack(ack)
    }
}
