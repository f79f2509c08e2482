//! [`BinanceVenue`]: what every account's clients share in one process — the settings, one
//! HTTP client (connection pool and runtime thread), and the back-off of each venue host.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use alphapulse_domain::{
    ports::{Clock, SystemClock},
    ExchangeError,
};
use chrono::{DateTime, Utc};
use reqwest::blocking::Client;

use super::{error::secs_until, http::build_client, BinanceConfig};

/// Binance as one process sees it, shared by all tenants' clients.
///
/// Build **one per process** (the composition root does, and hands clones to the
/// [`ExchangeRouter`](crate::ExchangeRouter)); clones share everything:
///
/// - **Back-off.** When a host (a base URL: spot or futures) answers HTTP 429 or 418, every call
///   to that host through this venue, for every tenant, fails fast with
///   [`ExchangeError::RateLimited`] until the deadline the venue gave (`Retry-After`, the ban
///   time in a 418's message, or the defaults of [`super::error`]), without touching the
///   network. Binance counts request weight and bans per address, so one tenant ignoring a 429
///   would otherwise get the server banned for everyone. An account's order-count limit
///   (code -1015) stops only that account's orders (see
///   [`RateLimitScope`](super::error::RateLimitScope)).
/// - **One HTTP client.** A `reqwest::blocking::Client` owns a runtime thread and a connection
///   pool; one serves every account. It is built on first use, so build the venue anywhere but
///   make the first call (like every call) from a blocking thread.
///
/// Deadlines are judged by the [`Clock`] given to [`BinanceVenue::with_clock`] (the system
/// clock by default), so tests can move time with a `ManualClock`.
#[derive(Clone)]
pub struct BinanceVenue {
    inner: Arc<Inner>,
}

struct Inner {
    config: BinanceConfig,
    clock: Arc<dyn Clock>,
    client: OnceLock<Result<Client, ExchangeError>>,
    /// Back-off deadline per base URL. At most one entry per host the config names (two), and
    /// entries are dropped once passed.
    bans: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl BinanceVenue {
    /// The venue with `config`, judging back-off deadlines by the system clock.
    pub fn new(config: BinanceConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// The venue with `config`, judging back-off deadlines by `clock`.
    ///
    /// Request timestamps (`timestamp` of signed requests) always come from the system clock:
    /// the venue checks them against its own.
    pub fn with_clock(config: BinanceConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                clock,
                client: OnceLock::new(),
                bans: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &BinanceConfig {
        &self.inner.config
    }

    /// Until when calls to `base_url` are held back, if they are now.
    pub fn backing_off_until(&self, base_url: &str) -> Option<DateTime<Utc>> {
        self.banned_until(base_url.trim_end_matches('/'), self.now())
    }

    /// The shared HTTP client, built on first use.
    pub(crate) fn client(&self) -> Result<Client, ExchangeError> {
        self.inner
            .client
            .get_or_init(|| build_client(&self.inner.config))
            .clone()
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The clock deadlines are judged by.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// The error for a call to `base_url` (validated, no trailing slash) that must not be sent
    /// at `now`, if any.
    pub(crate) fn check(&self, base_url: &str, now: DateTime<Utc>) -> Result<(), ExchangeError> {
        match self.banned_until(base_url, now) {
            Some(until) => Err(ExchangeError::RateLimited {
                retry_after_secs: secs_until(until, now),
            }),
            None => Ok(()),
        }
    }

    /// Holds back every call to `base_url` until `until` (a later deadline already set stays).
    pub(crate) fn back_off(&self, base_url: &str, until: DateTime<Utc>) {
        let mut bans = self.bans();
        let deadline = bans.entry(base_url.to_owned()).or_insert(until);
        *deadline = (*deadline).max(until);
        tracing::warn!(base_url, until = %deadline, "binance: backing off the venue for every account");
    }

    fn banned_until(&self, base_url: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut bans = self.bans();
        let until = *bans.get(base_url)?;
        if until > now {
            Some(until)
        } else {
            bans.remove(base_url);
            None
        }
    }

    fn bans(&self) -> std::sync::MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        // The map is valid whatever a panicking holder did: each operation is one insert or
        // remove.
        self.inner
            .bans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`BinanceVenue::new`]: a venue of its own, with the system clock.
impl From<BinanceConfig> for BinanceVenue {
    fn from(config: BinanceConfig) -> Self {
        Self::new(config)
    }
}

impl fmt::Debug for BinanceVenue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceVenue")
            .field("config", &self.inner.config)
            .field("clock", &self.inner.clock)
            .field("bans", &*self.bans())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::ports::ManualClock;
    use chrono::Duration;

    use super::*;

    const SPOT: &str = "http://spot.invalid";
    const FUTURES: &str = "http://futures.invalid";

    #[test]
    fn back_off_holds_one_host_until_the_deadline() {
        let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
        let venue = BinanceVenue::with_clock(BinanceConfig::default(), clock.clone());
        let shared = venue.clone();
        venue.back_off(SPOT, DateTime::UNIX_EPOCH + Duration::seconds(7));

        assert_eq!(
            shared.check(SPOT, clock.now()),
            Err(ExchangeError::RateLimited {
                retry_after_secs: 7
            })
        );
        assert_eq!(shared.check(FUTURES, clock.now()), Ok(()));
        clock.advance(Duration::milliseconds(6_500));
        assert_eq!(
            shared.check(SPOT, clock.now()),
            Err(ExchangeError::RateLimited {
                retry_after_secs: 1
            })
        );
        assert!(shared.backing_off_until("http://spot.invalid/").is_some());
        clock.advance(Duration::milliseconds(500));
        assert_eq!(shared.check(SPOT, clock.now()), Ok(()));
        assert_eq!(shared.backing_off_until(SPOT), None);
        assert!(venue.bans().is_empty(), "passed deadlines are dropped");
    }

    #[test]
    fn the_later_deadline_wins() {
        let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
        let venue = BinanceVenue::with_clock(BinanceConfig::default(), clock.clone());
        venue.back_off(SPOT, DateTime::UNIX_EPOCH + Duration::seconds(60));
        venue.back_off(SPOT, DateTime::UNIX_EPOCH + Duration::seconds(1));
        assert_eq!(
            venue.check(SPOT, clock.now()),
            Err(ExchangeError::RateLimited {
                retry_after_secs: 60
            })
        );
    }

    #[test]
    fn debug_shows_settings_and_bans() {
        let venue = BinanceVenue::new(BinanceConfig::default());
        let debug = format!("{venue:?}");
        assert!(debug.contains("api.binance.com"), "{debug}");
        assert!(debug.contains("bans"), "{debug}");
    }
}
