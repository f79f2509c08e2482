//! Binance: spot (`api.binance.com`) and USD-M futures (`fapi.binance.com`) REST clients, and
//! [`BinanceExchange`], the two together behind [`ExchangeClient`].
//!
//! ```no_run
//! use alphapulse_exchange::{BinanceConfig, BinanceCredentials, BinanceExchange, BinanceVenue};
//!
//! # fn main() -> Result<(), alphapulse_domain::ExchangeError> {
//! // Once per process: the shared HTTP client and the venue's back-off.
//! let venue = BinanceVenue::new(BinanceConfig::default());
//! // Per account, on a blocking thread (never on an async executor thread):
//! let credentials = BinanceCredentials::new("api key", "api secret");
//! let exchange = BinanceExchange::new(&credentials, &venue)?;
//! let balances = exchange.spot().balances()?;
//! # let _ = balances;
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod futures;
mod http;
mod parse;
pub mod sign;
pub mod spot;
mod venue;

use std::{collections::BTreeMap, fmt, time::Duration};

use alphapulse_domain::{
    ports::Actor, Candle, ExchangeClient, ExchangeError, FuturesPosition, Market, OrderAck,
    OrderRequest, SpotBalance, Symbol,
};
use rust_decimal::Decimal;
use secrecy::SecretString;

pub use futures::BinanceFutures;
pub use spot::BinanceSpot;
pub use venue::BinanceVenue;

/// Production spot REST host.
pub const SPOT_BASE_URL: &str = "https://api.binance.com";
/// Production USD-M futures REST host.
pub const FUTURES_BASE_URL: &str = "https://fapi.binance.com";
/// Spot testnet REST host.
pub const SPOT_TESTNET_BASE_URL: &str = "https://testnet.binance.vision";
/// USD-M futures testnet REST host.
pub const FUTURES_TESTNET_BASE_URL: &str = "https://testnet.binancefuture.com";
/// The asset holdings are valued in.
pub const DEFAULT_QUOTE_ASSET: &str = "USDT";

/// Default request timeout (connect and whole request).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One account's API key and secret.
///
/// The secret is a [`SecretString`]: zeroed when dropped, exposed only to sign requests
/// ([`sign::Signer`]), never sent, logged or printed. `Debug` shows only the first four
/// characters of the key.
#[derive(Clone)]
pub struct BinanceCredentials {
    api_key: String,
    api_secret: SecretString,
}

impl BinanceCredentials {
    /// Credentials from a key and a secret.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<SecretString>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
        }
    }

    /// The API key, sent in the `X-MBX-APIKEY` header.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret, for the signer only.
    pub(crate) fn api_secret(&self) -> &SecretString {
        &self.api_secret
    }
}

impl fmt::Debug for BinanceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_prefix: String = self.api_key.chars().take(4).collect();
        f.debug_struct("BinanceCredentials")
            .field("api_key", &format_args!("{key_prefix}..."))
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

/// Where and how to reach Binance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinanceConfig {
    /// Spot REST base URL, default [`SPOT_BASE_URL`].
    pub spot_base_url: String,
    /// USD-M futures REST base URL, default [`FUTURES_BASE_URL`].
    pub futures_base_url: String,
    /// Connect and request timeout, default [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// `recvWindow` of signed requests in ms, default 5000, at most 60000.
    pub recv_window_ms: u64,
    /// The asset spot holdings are valued in, default [`DEFAULT_QUOTE_ASSET`].
    pub quote_asset: String,
}

impl Default for BinanceConfig {
    fn default() -> Self {
        Self {
            spot_base_url: SPOT_BASE_URL.to_owned(),
            futures_base_url: FUTURES_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            recv_window_ms: sign::DEFAULT_RECV_WINDOW_MS,
            quote_asset: DEFAULT_QUOTE_ASSET.to_owned(),
        }
    }
}

impl BinanceConfig {
    /// The default settings with other base URLs (testnet, or a mock server in tests).
    pub fn with_base_urls(
        spot_base_url: impl Into<String>,
        futures_base_url: impl Into<String>,
    ) -> Self {
        Self {
            spot_base_url: spot_base_url.into(),
            futures_base_url: futures_base_url.into(),
            ..Self::default()
        }
    }
}

/// A futures wallet balance in one margin asset (`GET /fapi/v2/balance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuturesAssetBalance {
    /// Margin asset, e.g. `USDT`.
    pub asset: String,
    /// Wallet balance.
    pub balance: Decimal,
    /// Available for new positions or withdrawal.
    pub available_balance: Decimal,
    /// Unrealized profit of cross positions.
    pub cross_unrealized_pnl: Decimal,
}

/// One Binance account (spot and USD-M futures) behind [`ExchangeClient`].
///
/// One instance serves one tenant's account: it holds that account's credentials, so the
/// `actor` argument of the port methods is ignored. The [`ExchangeRouter`](crate::ExchangeRouter)
/// keeps one instance per tenant account (built from the tenant's decrypted credentials, see
/// [`CredentialsCipher`](crate::CredentialsCipher)) and never hands one tenant's instance to
/// another. All instances of a [`BinanceVenue`] share its HTTP client and back-off.
///
/// Blocking: call it from a blocking thread.
#[derive(Debug, Clone)]
pub struct BinanceExchange {
    spot: BinanceSpot,
    futures: BinanceFutures,
}

impl BinanceExchange {
    /// Spot and futures clients for `credentials` at `venue`.
    ///
    /// # Errors
    /// As [`BinanceSpot::new`].
    pub fn new(
        credentials: &BinanceCredentials,
        venue: &BinanceVenue,
    ) -> Result<Self, ExchangeError> {
        Ok(Self {
            spot: BinanceSpot::new(credentials, venue)?,
            futures: BinanceFutures::new(credentials, venue)?,
        })
    }

    /// The spot client.
    pub fn spot(&self) -> &BinanceSpot {
        &self.spot
    }

    /// The futures client.
    pub fn futures(&self) -> &BinanceFutures {
        &self.futures
    }
}

impl ExchangeClient for BinanceExchange {
    fn spot_balances(&self, _actor: &Actor) -> Result<Vec<SpotBalance>, ExchangeError> {
        self.spot.balances()
    }

    fn futures_positions(&self, _actor: &Actor) -> Result<Vec<FuturesPosition>, ExchangeError> {
        self.futures.positions()
    }

    /// Spot: last traded price (`/api/v3/ticker/price`); futures: mark price
    /// (`/fapi/v1/premiumIndex`). Symbols the venue does not list are absent from the map.
    fn prices(
        &self,
        _actor: &Actor,
        market: Market,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, ExchangeError> {
        match market {
            Market::Spot => self.spot.prices(symbols),
            Market::Futures => self.futures.mark_prices(symbols),
        }
    }

    /// Spot daily klines.
    fn daily_candles(
        &self,
        _actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, ExchangeError> {
        self.spot.daily_candles(symbol, limit)
    }

    /// Spot quote-asset balance (free + locked) plus the futures wallet balance in the same
    /// asset (margin included, unrealised PnL excluded: the positions carry it).
    fn cash(&self, _actor: &Actor) -> Result<Decimal, ExchangeError> {
        let spot = self.spot.quote_balance()?;
        let quote = self.spot.quote_asset();
        let futures: Decimal = self
            .futures
            .balances()?
            .iter()
            .filter(|b| b.asset == quote)
            .map(|b| b.balance)
            .sum();
        Ok(spot + futures)
    }

    /// Routed by `order.market`.
    fn place_order(&self, _actor: &Actor, order: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        match order.market {
            Market::Spot => self.spot.place_market_order(order),
            Market::Futures => self.futures.place_market_order(order),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_redacts() {
        let creds = BinanceCredentials::new("ABCDEFGHIJ", "very-secret");
        let debug = format!("{creds:?}");
        assert!(debug.contains("ABCD..."));
        assert!(!debug.contains("EFGH"));
        assert!(!debug.contains("very-secret"));
        assert_eq!(creds.api_key(), "ABCDEFGHIJ");
    }

    #[test]
    fn defaults_point_at_production() {
        let config = BinanceConfig::default();
        assert_eq!(config.spot_base_url, "https://api.binance.com");
        assert_eq!(config.futures_base_url, "https://fapi.binance.com");
        assert_eq!(config.recv_window_ms, 5_000);
        assert_eq!(config.quote_asset, "USDT");
    }
}
