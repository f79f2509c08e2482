//! Mapping Binance's failures onto [`ExchangeError`].
//!
//! | what the venue answered | error |
//! |---|---|
//! | HTTP 429 (request weight exceeded) | [`ExchangeError::RateLimited`], `Retry-After` or 1 s |
//! | HTTP 418 (IP banned after ignoring 429s) | [`ExchangeError::RateLimited`], `Retry-After` or 60 s |
//! | code -2015, -2014, -1022, -1021, -1002 (key, permissions/IP, signature, timestamp) | [`ExchangeError::Auth`] |
//! | HTTP 5xx; codes -1000, -1001, -1006, -1007, -1008 | [`ExchangeError::Unavailable`] |
//! | any other negative code on an order; -2010, -1013, -4164 anywhere | [`ExchangeError::Rejected`] |
//! | HTTP 401 without a code | [`ExchangeError::Auth`] |
//! | anything else (other codes on queries, unparsable bodies) | [`ExchangeError::Other`] |
//! | connection refused, DNS, timeout | [`ExchangeError::Unavailable`] |
//!
//! A 5xx on an order means Binance's own docs say the execution status is *unknown*: the order
//! may have been placed. Callers must look the order up by its client order id before placing it
//! again.
//!
//! Messages never contain the request URL (it carries the signature) or any credential.

use alphapulse_domain::ExchangeError;
use serde::Deserialize;

/// Default back-off for HTTP 429 without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER_429_SECS: u64 = 1;
/// Default back-off for HTTP 418 (IP ban) without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER_418_SECS: u64 = 60;

/// Codes meaning the credentials, their permissions, the signature or the timestamp are wrong.
const AUTH_CODES: [i64; 5] = [
    -1002, // UNAUTHORIZED
    -1021, // INVALID_TIMESTAMP: outside recvWindow, clock skew
    -1022, // INVALID_SIGNATURE
    -2014, // BAD_API_KEY_FMT
    -2015, // REJECTED_MBX_KEY: invalid key, IP or permissions
];

/// Codes meaning the venue failed, not the request.
const UNAVAILABLE_CODES: [i64; 5] = [
    -1000, // UNKNOWN
    -1001, // DISCONNECTED
    -1006, // UNEXPECTED_RESP
    -1007, // TIMEOUT (execution status unknown)
    -1008, // SERVER_BUSY
];

/// Codes that are order rejections whatever the endpoint.
const REJECTION_CODES: [i64; 3] = [
    -2010, // NEW_ORDER_REJECTED (e.g. insufficient balance)
    -1013, // filter failure (LOT_SIZE, MIN_NOTIONAL, ...)
    -4164, // futures: notional below the minimum
];

/// The longest slice of an unexpected response body quoted in an error.
const MAX_BODY_EXCERPT: usize = 200;

/// What a request was for: a venue error code on an order is a rejection of that order, the same
/// code on a query is just a failed query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Reads: account, positions, prices, candles.
    Query,
    /// Order placement.
    Order,
}

/// Binance's error body, `{"code": -2010, "msg": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    /// Negative venue error code.
    pub code: i64,
    /// Human-readable message.
    #[serde(default)]
    pub msg: String,
}

/// Maps a non-success response (`status`, its `Retry-After` header and its body) to an error.
pub fn map_response(
    status: u16,
    retry_after: Option<&str>,
    body: &str,
    kind: RequestKind,
) -> ExchangeError {
    if status == 429 || status == 418 {
        let default = if status == 429 {
            DEFAULT_RETRY_AFTER_429_SECS
        } else {
            DEFAULT_RETRY_AFTER_418_SECS
        };
        let retry_after_secs = retry_after
            .and_then(|value| value.trim().parse::<u64>().ok())
            .unwrap_or(default);
        return ExchangeError::RateLimited { retry_after_secs };
    }
    let api_error = serde_json::from_str::<ApiErrorBody>(body).ok();
    if let Some(ApiErrorBody { code, msg }) = &api_error {
        if AUTH_CODES.contains(code) {
            return ExchangeError::Auth(format!("{msg} (code {code})"));
        }
    }
    if status >= 500 {
        let detail =
            api_error.map_or_else(|| excerpt(body), |e| format!("{} (code {})", e.msg, e.code));
        return ExchangeError::Unavailable(format!("HTTP {status}: {detail}"));
    }
    match api_error {
        Some(ApiErrorBody { code, msg }) if UNAVAILABLE_CODES.contains(&code) => {
            ExchangeError::Unavailable(format!("{msg} (code {code})"))
        }
        Some(ApiErrorBody { code, msg })
            if REJECTION_CODES.contains(&code) || (kind == RequestKind::Order && code < 0) =>
        {
            ExchangeError::Rejected { code, message: msg }
        }
        Some(ApiErrorBody { code, msg }) => {
            ExchangeError::Other(format!("HTTP {status}: {msg} (code {code})"))
        }
        None if status == 401 => ExchangeError::Auth(format!("HTTP 401: {}", excerpt(body))),
        None if status == 403 => ExchangeError::Other(
            "HTTP 403: request blocked by the venue's web application firewall".to_owned(),
        ),
        None => ExchangeError::Other(format!("unexpected HTTP {status}: {}", excerpt(body))),
    }
}

/// Maps a transport failure. The URL (which carries the signature) is stripped first.
pub(crate) fn map_transport(err: reqwest::Error) -> ExchangeError {
    let err = err.without_url();
    let message = error_chain(&err);
    if err.is_timeout() {
        ExchangeError::Unavailable(format!("timed out: {message}"))
    } else if err.is_connect() || err.is_request() || err.is_body() {
        ExchangeError::Unavailable(message)
    } else {
        ExchangeError::Other(message)
    }
}

/// Maps a success response whose body is not the documented JSON.
pub(crate) fn map_decode(path: &str, err: &serde_json::Error) -> ExchangeError {
    ExchangeError::Other(format!("unparsable response from {path}: {err}"))
}

/// `err` and its sources, joined with `: ` (reqwest's own message is terse).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "empty body".to_owned();
    }
    match body.char_indices().nth(MAX_BODY_EXCERPT) {
        Some((end, _)) => format!("{}...", &body[..end]),
        None => body.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_use_retry_after_or_defaults() {
        let q = RequestKind::Query;
        assert_eq!(
            map_response(429, Some("7"), "", q),
            ExchangeError::RateLimited {
                retry_after_secs: 7
            }
        );
        assert_eq!(
            map_response(429, None, "", q),
            ExchangeError::RateLimited {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            map_response(418, Some("not a number"), "", q),
            ExchangeError::RateLimited {
                retry_after_secs: 60
            }
        );
        assert_eq!(
            map_response(418, Some(" 120 "), "", q),
            ExchangeError::RateLimited {
                retry_after_secs: 120
            }
        );
    }

    #[test]
    fn auth_codes_win_over_status() {
        for code in AUTH_CODES {
            let body = format!(r#"{{"code":{code},"msg":"nope"}}"#);
            for kind in [RequestKind::Query, RequestKind::Order] {
                assert!(matches!(
                    map_response(400, None, &body, kind),
                    ExchangeError::Auth(_)
                ));
            }
        }
        assert!(matches!(
            map_response(401, None, "", RequestKind::Query),
            ExchangeError::Auth(_)
        ));
    }

    #[test]
    fn order_codes_are_rejections() {
        let body =
            r#"{"code":-1111,"msg":"Precision is over the maximum defined for this asset."}"#;
        assert_eq!(
            map_response(400, None, body, RequestKind::Order),
            ExchangeError::Rejected {
                code: -1111,
                message: "Precision is over the maximum defined for this asset.".to_owned()
            }
        );
        assert!(matches!(
            map_response(400, None, body, RequestKind::Query),
            ExchangeError::Other(_)
        ));
        let body = r#"{"code":-1013,"msg":"Filter failure: LOT_SIZE"}"#;
        assert!(matches!(
            map_response(400, None, body, RequestKind::Query),
            ExchangeError::Rejected { code: -1013, .. }
        ));
    }

    #[test]
    fn server_failures_are_unavailable() {
        assert!(matches!(
            map_response(503, None, "<html>busy</html>", RequestKind::Order),
            ExchangeError::Unavailable(_)
        ));
        let body = r#"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#;
        assert!(matches!(
            map_response(400, None, body, RequestKind::Order),
            ExchangeError::Unavailable(_)
        ));
    }

    #[test]
    fn unparsable_bodies_are_other_and_excerpted() {
        let body = "x".repeat(1_000);
        match map_response(400, None, &body, RequestKind::Query) {
            ExchangeError::Other(message) => assert!(message.len() < 300),
            other => panic!("unexpected {other:?}"),
        }
    }
}
