//! AlphaPulse venue adapters: the Binance spot and USD-M futures REST clients behind the
//! domain's [`ExchangeClient`](alphapulse_domain::ExchangeClient) port, and the cipher that keeps
//! tenants' exchange API secrets encrypted at rest.
//!
//! # Why a leaf crate
//!
//! Venue adapters are I/O at the edge: they depend on the domain (for the port and its types) and
//! on an HTTP client, and nothing in AlphaPulse depends on them except the binary that composes
//! the application. Keeping them in their own crate means the services and the HTTP layer never
//! see `reqwest`, a venue's wire format or its error codes, and that adding a venue is adding a
//! module here, not touching the layers above.
//!
//! The layout follows the venue-adapter convention of trading engines such as NautilusTrader:
//! per venue, one module for transport and signing ([`binance::sign`], the private `http`
//! module), one for the wire format and its parsing into domain types (`parse`), one for
//! mapping the venue's errors onto [`ExchangeError`](alphapulse_domain::ExchangeError)
//! ([`binance::error`]), the venue's API surfaces ([`binance::spot`], [`binance::futures`]),
//! and integration tests that replay responses in the shape the venue documents
//! (`tests/fixtures/*.json`) from a local mock server.
//!
//! # Blocking by design
//!
//! The port is synchronous; callers run it on a blocking thread (for example
//! `tokio::task::spawn_blocking` or `actix_web::web::block`). The clients use
//! `reqwest::blocking`, so they must not be built, called or dropped on an async executor thread.
//!
//! # Features
//!
//! - `tls` (off by default): HTTPS through `reqwest`'s rustls backend. The real venues are only
//!   reachable over HTTPS, so the binary must enable it; it is off here because it is heavy to
//!   build and the offline tests only speak plain HTTP to a local mock server. Without it,
//!   constructing a client for an `https://` base URL fails with
//!   [`ExchangeError::Other`](alphapulse_domain::ExchangeError::Other).
//!
//! # Rate limits and caches
//!
//! Binance counts request weight and bans per server address, so the whole process shares one
//! [`BinanceVenue`]: after a 429 or 418 every call to that host, for every tenant, fails fast
//! with [`ExchangeError::RateLimited`](alphapulse_domain::ExchangeError::RateLimited) until the
//! venue's deadline. The [`ExchangeRouter`] caches account lookups, live clients and live
//! positions in bounded [`moka`] caches (see [`router`]).
//!
//! # Secrets
//!
//! API secrets never appear in errors, logs or `Debug` output: request URLs (which carry the
//! signature) are stripped from transport errors, the secret is a `secrecy::SecretString`
//! exposed only to sign, and the credential types redact themselves.
#![deny(missing_docs)]

pub mod binance;
pub mod credentials;
pub mod paper;
pub mod router;

pub use binance::{
    BinanceConfig, BinanceCredentials, BinanceExchange, BinanceFutures, BinanceSpot, BinanceVenue,
    FuturesAssetBalance,
};
pub use credentials::{CredentialsCipher, CredentialsError};
pub use paper::PaperExchange;
pub use router::ExchangeRouter;
