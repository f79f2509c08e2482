//! Mapping Binance's failures onto [`ExchangeError`].
//!
//! | what the venue answered | error |
//! |---|---|
//! | HTTP 429 (request weight exceeded) | [`ExchangeError::RateLimited`], `Retry-After` or 1 s |
//! | HTTP 418 (IP banned after ignoring 429s) | [`ExchangeError::RateLimited`], `Retry-After`, the body's "banned until", or 60 s |
//! | code -2015, -2014, -1022, -1021, -1002 (key, permissions/IP, signature, timestamp) | [`ExchangeError::Auth`] |
//! | HTTP 5xx; codes -1000, -1001, -1006, -1007, -1008 | [`ExchangeError::Unavailable`] |
//! | any other negative code on an order; -2010, -1013, -4164 anywhere | [`ExchangeError::Rejected`] |
//! | HTTP 401 without a code | [`ExchangeError::Auth`] |
//! | anything else (other codes on queries, unparsable bodies) | [`ExchangeError::Other`] |
//! | connection refused, DNS, timeout | [`ExchangeError::Unavailable`] |
//!
//! A 429 or 418 is also a [`RateLimit`]: the clients stop calling the venue host (or, for an
//! account's order-count limit, that account's orders) until it passes, failing fast with
//! [`ExchangeError::RateLimited`] meanwhile (see [`BinanceVenue`](super::BinanceVenue)).
//!
//! A 5xx on an order means Binance's own docs say the execution status is *unknown*: the order
//! may have been placed. Callers must look the order up by its client order id before placing it
//! again.
//!
//! Messages never contain the request URL (it carries the signature) or any credential.

use alphapulse_domain::ExchangeError;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// Default back-off for HTTP 429 without a usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER_429_SECS: u64 = 1;
/// Default back-off for HTTP 418 (IP ban) without a usable `Retry-After` or ban time.
pub const DEFAULT_RETRY_AFTER_418_SECS: u64 = 60;

/// The longest back-off honoured, whatever the venue asks: Binance's IP bans last from two
/// minutes to three days. Bounds a bogus `Retry-After` or ban time.
pub const MAX_BACKOFF_SECS: u64 = 3 * 24 * 60 * 60;

/// `TOO_MANY_ORDERS`: the order-count limit, counted per account, not per address.
const TOO_MANY_ORDERS: i64 = -1015;

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

/// Whom a [`RateLimit`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitScope {
    /// Every call from this process to the venue host, for every account: request weight, raw
    /// request counts and IP bans are counted per address.
    Venue,
    /// The orders of one account: the order-count limit (code -1015) is counted per account, so
    /// one tenant placing too many orders must not stop the others.
    AccountOrders,
}

/// What an HTTP 429 or 418 asks for: who stops calling, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// When calls may resume.
    pub until: DateTime<Utc>,
    /// Who must wait.
    pub scope: RateLimitScope,
}

impl RateLimit {
    /// The rate limit a response announces, `None` unless `status` is 429 or 418.
    ///
    /// The deadline is the later of `Retry-After` (seconds or an HTTP date) and the ban time
    /// Binance writes in a 418's message ("... banned until 1659146400000 ..."), or
    /// [`DEFAULT_RETRY_AFTER_429_SECS`] / [`DEFAULT_RETRY_AFTER_418_SECS`] after `now` when the
    /// response has neither; never more than [`MAX_BACKOFF_SECS`] after `now`.
    pub fn from_response(
        status: u16,
        retry_after: Option<&str>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let default_secs = match status {
            429 => DEFAULT_RETRY_AFTER_429_SECS,
            418 => DEFAULT_RETRY_AFTER_418_SECS,
            _ => return None,
        };
        let api_error = serde_json::from_str::<ApiErrorBody>(body).ok();
        let header = retry_after.and_then(|value| parse_retry_after(value, now));
        let banned = api_error.as_ref().and_then(|e| banned_until(&e.msg));
        let until = match (header, banned) {
            (Some(a), Some(b)) => a.max(b),
            (Some(at), None) | (None, Some(at)) => at,
            (None, None) => now + seconds(default_secs),
        };
        let scope = match api_error {
            Some(ApiErrorBody { code, .. }) if status == 429 && code == TOO_MANY_ORDERS => {
                RateLimitScope::AccountOrders
            }
            _ => RateLimitScope::Venue,
        };
        Some(Self {
            until: until.min(now + seconds(MAX_BACKOFF_SECS)),
            scope,
        })
    }

    /// Whole seconds from `now` until [`RateLimit::until`], rounded up (0 once it has passed).
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        secs_until(self.until, now)
    }

    /// The error callers get: [`ExchangeError::RateLimited`] with the seconds left at `now`.
    pub fn error(&self, now: DateTime<Utc>) -> ExchangeError {
        ExchangeError::RateLimited {
            retry_after_secs: self.retry_after_secs(now),
        }
    }
}

/// Whole seconds from `now` until `until`, rounded up; 0 if it has passed.
pub(crate) fn secs_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
    millis.div_ceil(1_000)
}

fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs.min(MAX_BACKOFF_SECS)).unwrap_or(i64::MAX))
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110).
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(now + seconds(secs));
    }
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The ban time in Binance's 418 message: "Way too many requests; IP(...) banned until
/// 1659146400000. Please use ...".
fn banned_until(message: &str) -> Option<DateTime<Utc>> {
    let (_, rest) = message.split_once("banned until ")?;
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    DateTime::from_timestamp_millis(digits.parse().ok()?)
}

/// Maps a non-success response (`status`, its `Retry-After` header and its body) to an error;
/// `now` dates a rate limit (see [`RateLimit::from_response`]).
pub fn map_response(
    status: u16,
    retry_after: Option<&str>,
    body: &str,
    kind: RequestKind,
    now: DateTime<Utc>,
) -> ExchangeError {
    if let Some(limit) = RateLimit::from_response(status, retry_after, body, now) {
        return limit.error(now);
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

    /// 2022-07-30T01:00:00Z, an hour before the ban time of the 418 message below.
    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_659_142_800_000).unwrap()
    }

    #[test]
    fn rate_limits_use_retry_after_or_defaults() {
        let q = RequestKind::Query;
        assert_eq!(
            map_response(429, Some("7"), "", q, now()),
            ExchangeError::RateLimited {
                retry_after_secs: 7
            }
        );
        assert_eq!(
            map_response(429, None, "", q, now()),
            ExchangeError::RateLimited {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            map_response(418, Some("not a number"), "", q, now()),
            ExchangeError::RateLimited {
                retry_after_secs: 60
            }
        );
        assert_eq!(
            map_response(418, Some(" 120 "), "", q, now()),
            ExchangeError::RateLimited {
                retry_after_secs: 120
            }
        );
    }

    #[test]
    fn bans_use_the_ban_time_of_the_message() {
        let body = r#"{"code":-1003,"msg":"Way too many requests; IP(203.0.113.9) banned until 1659146400000. Please use the websocket for live updates to avoid bans."}"#;
        let limit = RateLimit::from_response(418, None, body, now()).unwrap();
        assert_eq!(limit.until.timestamp_millis(), 1_659_146_400_000);
        assert_eq!(limit.scope, RateLimitScope::Venue);
        assert_eq!(
            map_response(418, None, body, RequestKind::Query, now()),
            ExchangeError::RateLimited {
                retry_after_secs: 3_600
            }
        );
        // the later of the header and the message wins
        let limit = RateLimit::from_response(418, Some("7200"), body, now()).unwrap();
        assert_eq!(limit.retry_after_secs(now()), 7_200);
        let limit = RateLimit::from_response(418, Some("120"), body, now()).unwrap();
        assert_eq!(limit.retry_after_secs(now()), 3_600);
    }

    #[test]
    fn rate_limits_are_venue_wide_except_order_counts() {
        let weight = r#"{"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 MINUTE."}"#;
        let orders = r#"{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}"#;
        let scope = |status, body| {
            RateLimit::from_response(status, None, body, now())
                .unwrap()
                .scope
        };
        assert_eq!(scope(429, weight), RateLimitScope::Venue);
        assert_eq!(scope(429, ""), RateLimitScope::Venue);
        assert_eq!(scope(429, orders), RateLimitScope::AccountOrders);
        assert_eq!(scope(418, orders), RateLimitScope::Venue);
        assert_eq!(RateLimit::from_response(400, None, orders, now()), None);
        assert_eq!(RateLimit::from_response(503, Some("7"), "", now()), None);
    }

    #[test]
    fn retry_after_as_a_date_and_bounds() {
        let limit = RateLimit::from_response(429, Some("Sat, 30 Jul 2022 01:00:30 GMT"), "", now())
            .unwrap();
        assert_eq!(limit.retry_after_secs(now()), 30);
        let limit = RateLimit::from_response(429, Some("18446744073709551615"), "", now()).unwrap();
        assert_eq!(limit.retry_after_secs(now()), MAX_BACKOFF_SECS);
        let limit = RateLimit::from_response(429, Some("0"), "", now()).unwrap();
        assert_eq!(limit.retry_after_secs(now()), 0);
        assert_eq!(
            secs_until(now() + Duration::milliseconds(6_001), now()),
            7,
            "rounded up"
        );
        assert_eq!(secs_until(now() - Duration::seconds(5), now()), 0);
    }

    #[test]
    fn auth_codes_win_over_status() {
        for code in AUTH_CODES {
            let body = format!(r#"{{"code":{code},"msg":"nope"}}"#);
            for kind in [RequestKind::Query, RequestKind::Order] {
                assert!(matches!(
                    map_response(400, None, &body, kind, now()),
                    ExchangeError::Auth(_)
                ));
            }
        }
        assert!(matches!(
            map_response(401, None, "", RequestKind::Query, now()),
            ExchangeError::Auth(_)
        ));
    }

    #[test]
    fn order_codes_are_rejections() {
        let body =
            r#"{"code":-1111,"msg":"Precision is over the maximum defined for this asset."}"#;
        assert_eq!(
            map_response(400, None, body, RequestKind::Order, now()),
            ExchangeError::Rejected {
                code: -1111,
                message: "Precision is over the maximum defined for this asset.".to_owned()
            }
        );
        assert!(matches!(
            map_response(400, None, body, RequestKind::Query, now()),
            ExchangeError::Other(_)
        ));
        let body = r#"{"code":-1013,"msg":"Filter failure: LOT_SIZE"}"#;
        assert!(matches!(
            map_response(400, None, body, RequestKind::Query, now()),
            ExchangeError::Rejected { code: -1013, .. }
        ));
    }

    #[test]
    fn server_failures_are_unavailable() {
        assert!(matches!(
            map_response(503, None, "<html>busy</html>", RequestKind::Order, now()),
            ExchangeError::Unavailable(_)
        ));
        let body = r#"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#;
        assert!(matches!(
            map_response(400, None, body, RequestKind::Order, now()),
            ExchangeError::Unavailable(_)
        ));
    }

    #[test]
    fn unparsable_bodies_are_other_and_excerpted() {
        let body = "x".repeat(1_000);
        match map_response(400, None, &body, RequestKind::Query, now()) {
            ExchangeError::Other(message) => assert!(message.len() < 300),
            other => panic!("unexpected {other:?}"),
        }
    }
}
