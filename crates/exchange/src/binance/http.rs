//! The blocking HTTP transport shared by the spot and futures clients: base URL, public and
//! signed requests, status and error mapping, JSON decoding.

use std::{fmt, time::Instant};

use alphapulse_domain::ExchangeError;
use reqwest::{
    blocking::Client,
    header::{HeaderValue, RETRY_AFTER},
    Method, Url,
};
use serde::de::DeserializeOwned;

use super::{
    error::{map_decode, map_response, map_transport, RequestKind},
    sign::{Signer, API_KEY_HEADER},
    BinanceConfig, BinanceCredentials,
};

/// Builds the blocking HTTP client (one per [`super::BinanceExchange`], shared by spot and
/// futures: each `reqwest::blocking::Client` owns a runtime thread).
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
    client: Client,
    base_url: String,
    api_key: HeaderValue,
    signer: Signer,
}

impl HttpCore {
    pub(crate) fn new(
        client: Client,
        base_url: &str,
        credentials: &BinanceCredentials,
        recv_window_ms: u64,
    ) -> Result<Self, ExchangeError> {
        let base_url = validate_base_url(base_url)?;
        if credentials.api_key.is_empty() {
            return Err(ExchangeError::Auth("the API key is empty".to_owned()));
        }
        let mut api_key = HeaderValue::from_str(&credentials.api_key).map_err(|_| {
            ExchangeError::Auth(
                "the API key contains characters not allowed in a header".to_owned(),
            )
        })?;
        api_key.set_sensitive(true);
        Ok(Self {
            client,
            base_url,
            api_key,
            signer: Signer::new(credentials, recv_window_ms)?,
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
        if !status.is_success() {
            let err = map_response(status.as_u16(), retry_after.as_deref(), &body, kind);
            tracing::warn!(%method, path, status = status.as_u16(), error = %err, "binance error response");
            return Err(err);
        }
        serde_json::from_str(&body).map_err(|err| map_decode(path, &err))
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
