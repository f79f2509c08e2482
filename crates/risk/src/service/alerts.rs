//! Raising alerts: deduplicated by the alert store (one open alert per source and key), and
//! never allowed to fail the use case that found the condition.

use alphapulse_domain::ports::{Actor, AlertRepo, AlertSeverity, AlertSource, NewAlert};

/// Raises `alert` into `store` when there is one; a storage failure is logged.
pub(crate) fn raise(store: Option<&dyn AlertRepo>, actor: &Actor, alert: &NewAlert) {
    let Some(store) = store else {
        tracing::debug!(dedup_key = %alert.dedup_key, "no alert store: alert not raised");
        return;
    };
    match store.raise(actor, alert) {
        Ok(Some(raised)) => tracing::info!(
            source = %alert.source,
            dedup_key = %alert.dedup_key,
            alert_id = %raised.id,
            "alert raised"
        ),
        Ok(None) => {}
        Err(err) => tracing::warn!(
            source = %alert.source,
            dedup_key = %alert.dedup_key,
            error = %err,
            "alert could not be raised"
        ),
    }
}

/// An alert of `source` with its deduplication key.
pub(crate) fn alert(
    source: AlertSource,
    severity: AlertSeverity,
    dedup_key: String,
    title: String,
    message: String,
    tags: Vec<String>,
) -> NewAlert {
    NewAlert {
        source,
        severity,
        title,
        message,
        tags,
        dedup_key,
    }
}
