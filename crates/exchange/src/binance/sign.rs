//! Request signing for Binance `SIGNED` endpoints (`TRADE` and `USER_DATA`).
//!
//! Binance signs the exact query string that is sent: the request's parameters, then
//! `recvWindow` and `timestamp` (milliseconds since the epoch), are HMAC-SHA256'd with the API
//! secret, and the lowercase hex digest is appended as the last parameter, `signature`. The API
//! key travels in the `X-MBX-APIKEY` header.

use std::{
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use alphapulse_domain::ExchangeError;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::BinanceCredentials;

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// Default `recvWindow` in milliseconds: how long after `timestamp` the venue still accepts the
/// request.
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;

/// The largest `recvWindow` Binance accepts.
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;

type HmacSha256 = Hmac<Sha256>;

/// Signs query strings with one account's secret.
///
/// Keeps the secret as a [`SecretString`] (zeroed when dropped) and exposes it only to key the
/// HMAC of each signature; `Debug` never prints it.
#[derive(Clone)]
pub struct Signer {
    secret: SecretString,
    recv_window_ms: u64,
}

impl Signer {
    /// A signer for `credentials` that adds `recvWindow=recv_window_ms` to every request.
    ///
    /// # Errors
    /// [`ExchangeError::Auth`] for an empty secret; [`ExchangeError::Other`] for a
    /// `recv_window_ms` outside `1..=60000`.
    pub fn new(
        credentials: &BinanceCredentials,
        recv_window_ms: u64,
    ) -> Result<Self, ExchangeError> {
        if credentials.api_secret().expose_secret().is_empty() {
            return Err(ExchangeError::Auth("the API secret is empty".to_owned()));
        }
        if !(1..=MAX_RECV_WINDOW_MS).contains(&recv_window_ms) {
            return Err(ExchangeError::Other(format!(
                "recvWindow must be 1..={MAX_RECV_WINDOW_MS} ms, got {recv_window_ms}"
            )));
        }
        Ok(Self {
            secret: credentials.api_secret().clone(),
            recv_window_ms,
        })
    }

    /// The `recvWindow` this signer adds, in milliseconds.
    pub fn recv_window_ms(&self) -> u64 {
        self.recv_window_ms
    }

    /// The lowercase hex HMAC-SHA256 of `payload`.
    pub fn sign(&self, payload: &str) -> String {
        // HMAC takes keys of any length (longer ones are hashed first): this cannot fail.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(self.secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(payload.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `query` (already URL-encoded, possibly empty) followed by `recvWindow`, the current
    /// `timestamp` and the `signature` of all of it: the query string to send.
    pub fn signed_query(&self, query: &str) -> String {
        self.signed_query_at(query, now_ms())
    }

    /// As [`Signer::signed_query`], at a given `timestamp_ms`.
    pub fn signed_query_at(&self, query: &str, timestamp_ms: u64) -> String {
        let separator = if query.is_empty() { "" } else { "&" };
        let payload = format!(
            "{query}{separator}recvWindow={}&timestamp={timestamp_ms}",
            self.recv_window_ms
        );
        let signature = self.sign(&payload);
        format!("{payload}&signature={signature}")
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("secret", &"<redacted>")
            .field("recv_window_ms", &self.recv_window_ms)
            .finish()
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // The `POST /api/v3/order` SIGNED-endpoint example of Binance's spot API documentation.
    const DOC_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const DOC_QUERY: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    const DOC_SIGNATURE: &str = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";

    fn doc_signer() -> Signer {
        Signer::new(
            &BinanceCredentials::new(DOC_API_KEY, DOC_SECRET),
            DEFAULT_RECV_WINDOW_MS,
        )
        .unwrap()
    }

    #[test]
    fn binance_documentation_vector() {
        assert_eq!(doc_signer().sign(DOC_QUERY), DOC_SIGNATURE);
    }

    #[test]
    fn signed_query_appends_recv_window_timestamp_and_signature_in_order() {
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1";
        let signed = doc_signer().signed_query_at(query, 1_499_827_319_559);
        assert_eq!(signed, format!("{DOC_QUERY}&signature={DOC_SIGNATURE}"));
    }

    #[test]
    fn signed_query_of_no_parameters() {
        let signed = doc_signer().signed_query_at("", 42);
        assert!(signed.starts_with("recvWindow=5000&timestamp=42&signature="));
        assert_eq!(
            signed.len(),
            "recvWindow=5000&timestamp=42&signature=".len() + 64
        );
    }

    #[test]
    fn signed_query_uses_the_clock() {
        let signed = doc_signer().signed_query("a=1");
        let timestamp: u64 = signed
            .split('&')
            .find_map(|kv| kv.strip_prefix("timestamp="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(timestamp > 1_700_000_000_000);
    }

    #[test]
    fn rejects_empty_secret_and_bad_recv_window() {
        let empty = BinanceCredentials::new("key", "");
        assert!(matches!(
            Signer::new(&empty, 5_000),
            Err(ExchangeError::Auth(_))
        ));
        let creds = BinanceCredentials::new("key", "secret");
        assert!(matches!(
            Signer::new(&creds, 0),
            Err(ExchangeError::Other(_))
        ));
        assert!(matches!(
            Signer::new(&creds, 60_001),
            Err(ExchangeError::Other(_))
        ));
        assert!(Signer::new(&creds, 60_000).is_ok());
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let debug = format!("{:?}", doc_signer());
        assert!(!debug.contains(DOC_SECRET));
        assert!(debug.contains("redacted"));
    }
}
