//! The blocking HTTP transport shared by the spot and futures clients: base URL, public and
//! signed requests, the venue's back-off, status and error mapping, JSON decoding.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use alphapulse_domain::ExchangeError;
use chrono::{DateTime, Utc};
use reqwest::{
    blocking::Client,
    header::{HeaderValue, RETRY_AFTER},
    Method, Url,
};
use serde::de::DeserializeOwned;

use super::{
    error::{
        map_decode, map_response, map_transport, secs_until, RateLimit, RateLimitScope, RequestKind,
    },
    sign::{Signer, API_KEY_HEADER},
    BinanceConfig, BinanceCredentials, BinanceVenue,
};

/// Builds the blocking HTTP client (one per [`BinanceVenue`], shared by every account: each
/// `reqwest::blocking::Client` owns a runtime thread).
pub(crate) fn build_client(config: &BinanceConfig) -> Result<Client, ExchangeError> {
    Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(concat!("alphapulse-exchange/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(map_transport)
}

/// One venue host (spot or futures) for one account.
#[derive(Clone)]
pub(crate) struct HttpCore {
    venue: BinanceVenue,
    client: Client,
    base_url: String,
    api_key: HeaderValue,
    signer: Signer,
    /// Until when this account's orders are held back (order-count limit, code -1015).
    orders_held_until: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl HttpCore {
    pub(crate) fn new(
        venue: &BinanceVenue,
        base_url: &str,
        credentials: &BinanceCredentials,
    ) -> Result<Self, ExchangeError> {
        let base_url = validate_base_url(base_url)?;
        if credentials.api_key().is_empty() {
            return Err(ExchangeError::Auth("the API key is empty".to_owned()));
        }
        let mut api_key = HeaderValue::from_str(credentials.api_key()).map_err(|_| {
            ExchangeError::Auth(
                "the API key contains characters not allowed in a header".to_owned(),
            )
        })?;
        api_key.set_sensitive(true);
        let signer = Signer::new(credentials, venue.config().recv_window_ms)?;
        Ok(Self {
            venue: venue.clone(),
            client: venue.client()?,
            base_url,
            api_key,
            signer,
            orders_held_until: Arc::new(Mutex::new(None)),
        })
    }

    /// `GET path?params` without key or signature (market data).
    pub(crate) fn get_public<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, ExchangeError> {
        let query = encode(params)?;
        self.execute(Method::GET, path, &query, false, RequestKind::Query)
    }

    /// Signed `GET` (account data).
    pub(crate) fn get_signed<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, ExchangeError> {
        let query = self.signer.signed_query(&encode(params)?);
        self.execute(Method::GET, path, &query, true, RequestKind::Query)
    }

    /// Signed `POST` with the parameters in the query string (orders).
    pub(crate) fn post_signed<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, ExchangeError> {
        let query = self.signer.signed_query(&encode(params)?);
        self.execute(Method::POST, path, &query, true, RequestKind::Order)
    }

    fn execute<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        signed: bool,
        kind: RequestKind,
    ) -> Result<T, ExchangeError> {
        self.check_back_off(kind).inspect_err(|err| {
            tracing::debug!(%method, path, error = %err, "binance request held back");
        })?;
        let url = if query.is_empty() {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}{path}?{query}", self.base_url)
        };
        let mut request = self.client.request(method.clone(), url);
        if signed {
            request = request.header(API_KEY_HEADER, self.api_key.clone());
        }
        let started = Instant::now();
        let response = request.send().map_err(|err| {
            let err = map_transport(err);
            tracing::warn!(%method, path, error = %err, "binance request failed");
            err
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let used_weight = response
            .headers()
            .get("x-mbx-used-weight-1m")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.text().map_err(map_transport)?;
        tracing::debug!(
            %method,
            path,
            status = status.as_u16(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            used_weight_1m = used_weight.as_deref().unwrap_or("-"),
            "binance request"
        );
        let now = self.venue.now();
        if let Some(limit) =
            RateLimit::from_response(status.as_u16(), retry_after.as_deref(), &body, now)
        {
            self.back_off(&limit);
            let err = limit.error(now);
            tracing::warn!(%method, path, status = status.as_u16(), error = %err, "binance rate limit");
            return Err(err);
        }
        if !status.is_success() {
            let err = map_response(status.as_u16(), retry_after.as_deref(), &body, kind, now);
            tracing::warn!(%method, path, status = status.as_u16(), error = %err, "binance error response");
            return Err(err);
        }
        serde_json::from_str(&body).map_err(|err| map_decode(path, &err))
    }

    /// Fails fast while the venue host, or for orders this account's orders, are held back.
    fn check_back_off(&self, kind: RequestKind) -> Result<(), ExchangeError> {
        let now = self.venue.now();
        self.venue.check(&self.base_url, now)?;
        if kind == RequestKind::Order {
            let mut held = self.orders_held();
            match *held {
                Some(until) if until > now => {
                    return Err(ExchangeError::RateLimited {
                        retry_after_secs: secs_until(until, now),
                    })
                }
                Some(_) => *held = None,
                None => {}
            }
        }
        Ok(())
    }

    fn back_off(&self, limit: &RateLimit) {
        match limit.scope {
            RateLimitScope::Venue => self.venue.back_off(&self.base_url, limit.until),
            RateLimitScope::AccountOrders => {
                let mut held = self.orders_held();
                *held = Some(held.map_or(limit.until, |until| until.max(limit.until)));
            }
        }
    }

    fn orders_held(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        // A deadline is valid whatever a panicking holder did.
        self.orders_held_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for HttpCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCore")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

fn encode(params: &[(&str, String)]) -> Result<String, ExchangeError> {
    serde_urlencoded::to_string(params)
        .map_err(|err| ExchangeError::Other(format!("cannot encode request parameters: {err}")))
}

/// Checks `base_url` is an absolute http(s) URL without query or fragment and returns it without
/// a trailing slash.
fn validate_base_url(base_url: &str) -> Result<String, ExchangeError> {
    let invalid = |why: &str| ExchangeError::Other(format!("invalid base URL {base_url:?}: {why}"));
    let url = Url::parse(base_url).map_err(|err| invalid(&err.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry user info"));
    }
    match url.scheme() {
        "http" => {}
        "https" if cfg!(feature = "tls") => {}
        "https" => {
            return Err(invalid(
                "https needs the `tls` feature of alphapulse-exchange (built without it)",
            ))
        }
        _ => return Err(invalid("scheme must be http or https")),
    }
    Ok(base_url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_validated_and_trimmed() {
        assert_eq!(
            validate_base_url("http://127.0.0.1:9/").unwrap(),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            validate_base_url("http://h/prefix").unwrap(),
            "http://h/prefix"
        );
        for bad in ["not a url", "ftp://h", "http://h/?a=1", "http://u:p@h"] {
            assert!(
                matches!(validate_base_url(bad), Err(ExchangeError::Other(_))),
                "{bad}"
            );
        }
        assert_eq!(
            validate_base_url("https://api.binance.com").is_ok(),
            cfg!(feature = "tls")
        );
    }
}
