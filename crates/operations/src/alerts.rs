//! Alerts: the tenant's list and acknowledgement, and the rules of this crate that raise them.
//!
//! Every rule raises through [`AlertRepo::raise`] with a deduplication key naming its
//! condition; the repository inserts atomically unless an unacknowledged alert of the same
//! source and key exists, so one condition raises one open alert however often (and however
//! concurrently) it is evaluated. Once acknowledged, the condition may raise again.
//!
//! Rules elsewhere call the port directly (risk and drawdown limits, budget use, correlation
//! spikes: source `risk`, `risk_budget`, `correlation`); the regime store raises regime
//! changes (source `regime`) in the transaction that records them.

use std::{future::Future, sync::Arc};

use alphapulse_domain::{
    ports::{Actor, Alert, AlertFilter, AlertRepo, AlertSeverity, AlertSource, NewAlert},
    ExchangeError, Page, PageRequest, Principal, ValidationError,
};
use uuid::Uuid;

use crate::{clamp_window, OpsResult};

/// The tenant's alerts.
#[derive(Clone)]
pub struct AlertService {
    repo: Arc<dyn AlertRepo>,
}

impl std::fmt::Debug for AlertService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertService").finish_non_exhaustive()
    }
}

impl AlertService {
    /// The service over the alert store.
    pub fn new(repo: Arc<dyn AlertRepo>) -> Self {
        Self { repo }
    }

    /// A page of the caller's tenant's alerts, newest first.
    ///
    /// # Errors
    /// `start_time` after `end_time` (422); a bad cursor; storage failures.
    pub fn list(
        &self,
        caller: &Principal,
        filter: AlertFilter,
        page: &PageRequest,
    ) -> OpsResult<Page<Alert>> {
        let filter = checked(filter)?;
        Ok(self.repo.list(&caller.actor(), &filter, page)?)
    }

    /// [`AlertService::list`] without blocking a thread, when the repository can serve it so
    /// (see `AlertRepo::list_nonblocking`); `None`: call [`AlertService::list`] on a blocking
    /// thread (also for a filter it refuses: the blocking call answers the 422).
    pub fn list_nonblocking(
        &self,
        caller: &Principal,
        filter: AlertFilter,
        page: &PageRequest,
    ) -> Option<impl Future<Output = OpsResult<Page<Alert>>> + Send + 'static> {
        let filter = checked(filter).ok()?;
        let read = self.repo.list_nonblocking(&caller.actor(), &filter, page)?;
        Some(async move { Ok(read.await?) })
    }

    /// Acknowledges one of the caller's tenant's alerts (audited).
    ///
    /// # Errors
    /// Not found (also another tenant's id: 404), already acknowledged (409), storage.
    pub fn acknowledge(&self, caller: &Principal, id: Uuid) -> OpsResult<Alert> {
        let note = caller.note("alert.acknowledge", serde_json::json!({ "alert_id": id }));
        Ok(self.repo.acknowledge(&caller.actor(), id, &note)?)
    }
}

/// The list filter with its window checked (start not after end) and clamped.
fn checked(mut filter: AlertFilter) -> OpsResult<AlertFilter> {
    if let (Some(start), Some(end)) = (filter.start, filter.end) {
        if start > end {
            return Err(ValidationError::new("start_time", "must not be after end_time").into());
        }
    }
    filter.start = filter.start.map(clamp_window);
    filter.end = filter.end.map(clamp_window);
    Ok(filter)
}

/// The rule this crate owns: exchange accounts failing (the quota alerts are raised by
/// `alphapulse_admin::Quotas`). Raising never
/// fails its caller: a storage failure is logged and the alert skipped (the condition raises
/// again at its next evaluation).
#[derive(Clone)]
pub struct AlertRules {
    repo: Arc<dyn AlertRepo>,
}

impl std::fmt::Debug for AlertRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertRules").finish_non_exhaustive()
    }
}

impl AlertRules {
    /// The rules over the alert store.
    pub fn new(repo: Arc<dyn AlertRepo>) -> Self {
        Self { repo }
    }

    /// Raises `alert`; the stored alert, or `None` when deduplicated or storage failed.
    pub fn raise(&self, actor: &Actor, alert: &NewAlert) -> Option<Alert> {
        match self.repo.raise(actor, alert) {
            Ok(raised) => {
                if let Some(a) = &raised {
                    tracing::info!(
                        tenant_id = %actor.tenant_id,
                        alert_id = %a.id,
                        source = %a.source,
                        severity = %a.severity,
                        "alert raised"
                    );
                }
                raised
            }
            Err(err) => {
                tracing::warn!(tenant_id = %actor.tenant_id, error = %err, "alert could not be raised");
                None
            }
        }
    }

    /// An exchange account failing: one open alert per account (`exchange_account:<id>`).
    /// The message names the kind of failure, never a venue's raw answer or a secret.
    pub fn exchange_failing(
        &self,
        actor: &Actor,
        account_id: Uuid,
        venue: &str,
        error: &ExchangeError,
    ) -> Option<Alert> {
        let (severity, what) = describe(error);
        self.raise(
            actor,
            &NewAlert {
                source: AlertSource::Exchange,
                severity,
                title: format!("Exchange account failing: {venue}"),
                message: format!("Calls to the {venue} account {account_id} fail: {what}."),
                tags: vec!["exchange".to_owned(), venue.to_owned()],
                dedup_key: format!("exchange_account:{account_id}"),
            },
        )
    }
}

/// The severity and a safe description of an exchange failure.
pub fn describe(error: &ExchangeError) -> (AlertSeverity, String) {
    match error {
        ExchangeError::Auth(_) => (
            AlertSeverity::Critical,
            "the exchange refuses the account's credentials".to_owned(),
        ),
        ExchangeError::RateLimited { retry_after_secs } => (
            AlertSeverity::Warning,
            format!("the exchange rate-limits the account (retry in {retry_after_secs} s)"),
        ),
        ExchangeError::Unavailable(_) => (
            AlertSeverity::Warning,
            "the exchange is unreachable or failing".to_owned(),
        ),
        ExchangeError::NoAccount => (
            AlertSeverity::Warning,
            "no exchange account is configured".to_owned(),
        ),
        _ => (
            AlertSeverity::Warning,
            "the exchange call failed".to_owned(),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::{ports::MockAlertRepo, RepoError, Role, TenantId, UserId};
    use chrono::{TimeZone, Utc};

    use futures_util::FutureExt as _;

    use super::*;

    fn principal() -> Principal {
        Principal {
            tenant_id: TenantId::new_random(),
            user_id: UserId::new_random(),
            role: Role::Trader,
            request_id: Some("r1".into()),
            client_request_id: None,
        }
    }

    #[test]
    fn a_window_that_ends_before_it_starts_is_refused_before_storage() {
        let service = AlertService::new(Arc::new(MockAlertRepo::new()));
        let filter = AlertFilter {
            start: Some(Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap()),
            end: Some(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
            ..AlertFilter::default()
        };
        let err = service
            .list(&principal(), filter.clone(), &PageRequest::default())
            .unwrap_err();
        assert!(matches!(err, crate::OpsError::Invalid(v) if v.field == "start_time"));
        // The non-blocking list declines it (the blocking call answers the 422), before
        // storage: the mock has no expectation.
        assert!(service
            .list_nonblocking(&principal(), filter, &PageRequest::default())
            .is_none());
    }

    /// The non-blocking list hands the repository the same checked filter (windows clamped).
    #[test]
    fn the_nonblocking_list_passes_the_checked_filter() {
        let ancient = Utc.with_ymd_and_hms(1800, 1, 1, 0, 0, 0).unwrap();
        let mut repo = MockAlertRepo::new();
        repo.expect_list_nonblocking()
            .withf(move |_, f, _| {
                f.start != Some(ancient) && f.start == Some(clamp_window(ancient))
            })
            .times(1)
            .returning(|_, _, _| {
                Some(Box::pin(async {
                    Ok(Page {
                        items: Vec::new(),
                        next_cursor: None,
                    })
                }))
            });
        let service = AlertService::new(Arc::new(repo));
        let filter = AlertFilter {
            start: Some(ancient),
            ..AlertFilter::default()
        };
        let read = service
            .list_nonblocking(&principal(), filter, &PageRequest::default())
            .expect("offered");
        let page = read.now_or_never().expect("ready").unwrap();
        assert!(page.items.is_empty());
    }

    #[test]
    fn acknowledging_is_audited_as_the_caller() {
        let caller = principal();
        let id = Uuid::new_v4();
        let mut repo = MockAlertRepo::new();
        let expected = caller.actor();
        repo.expect_acknowledge()
            .withf(move |actor, alert, note| {
                *actor == expected
                    && *alert == id
                    && note.action == "alert.acknowledge"
                    && note.request_id.as_deref() == Some("r1")
            })
            .returning(|_, _, _| Err(RepoError::Conflict("alert is already acknowledged".into())));
        let service = AlertService::new(Arc::new(repo));
        assert!(matches!(
            service.acknowledge(&caller, id),
            Err(crate::OpsError::Repo(RepoError::Conflict(_)))
        ));
    }

    #[test]
    fn exchange_failures_dedup_per_account_and_never_quote_the_venue() {
        let account = Uuid::new_v4();
        let mut repo = MockAlertRepo::new();
        repo.expect_raise()
            .withf(move |_, alert| {
                alert.source == AlertSource::Exchange
                    && alert.severity == AlertSeverity::Critical
                    && alert.dedup_key == format!("exchange_account:{account}")
                    && !alert.message.contains("secret-ish venue text")
            })
            .times(1)
            .returning(|_, _| Ok(None));
        let rules = AlertRules::new(Arc::new(repo));
        let actor = Actor::system(TenantId::new_random());
        let error = ExchangeError::Auth("secret-ish venue text".into());
        assert!(rules
            .exchange_failing(&actor, account, "binance", &error)
            .is_none());
    }
}
