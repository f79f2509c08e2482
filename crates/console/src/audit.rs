//! The decision audit trail: the paginated list of the audit page and the streamed CSV export.
//!
//! Both read `decision_audit_log` in keyset batches on `(timestamp, txn_id)`: the list one page
//! at a time (newest first, the cursor being the last row's key), the export one batch after
//! the other (oldest first) so that the export of any number of rows holds one batch in
//! memory. Filters: `date_from` and `date_to` (days, UTC, both inclusive), `action`, `vendor`
//! (`vendor_normalized`), and `tenant_id` for platform users (owner: any tenant or all of
//! them; staff: their assigned tenants or all of those).

use std::sync::Arc;

use alphapulse_domain::{
    ports::{AuditAction, AuditFilter, AuditKey, AuditScope, DecisionAuditRepo, DecisionAuditRow},
    Page, PageRequest, Principal, Role, TenantId, TextEnum, ValidationError,
};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

use crate::{Access, ConsoleError};

/// The CSV header (the seed's columns, in its order).
pub const CSV_HEADER: [&str; 9] = [
    "timestamp",
    "tenant_id",
    "txn_id",
    "vendor_normalized",
    "action",
    "not_auto_post_reason",
    "calibrated_p",
    "threshold_used",
    "user_id",
];

/// Rows read per export batch.
pub const EXPORT_BATCH: u32 = 5000;

/// The filters as asked (validated by the service).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// First day (inclusive, UTC).
    pub date_from: Option<NaiveDate>,
    /// Last day (inclusive, UTC).
    pub date_to: Option<NaiveDate>,
    /// `auto_executed`, `queued`, ... (see [`AuditAction`]).
    pub action: Option<String>,
    /// A `vendor_normalized` value, e.g. `paper:BTCUSDT`.
    pub vendor: Option<String>,
    /// Platform users: one tenant.
    pub tenant_id: Option<TenantId>,
}

/// The audit service.
#[derive(Clone)]
pub struct AuditService {
    access: Access,
    repo: Arc<dyn DecisionAuditRepo>,
}

impl std::fmt::Debug for AuditService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditService").finish_non_exhaustive()
    }
}

/// Whether `vendor` is a `vendor_normalized` value: 1 to 64 of `A-Z a-z 0-9 _ . : -`.
pub fn valid_vendor(vendor: &str) -> bool {
    (1..=64).contains(&vendor.len())
        && vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
}

/// The filter of a query, every wrong field reported.
///
/// # Errors
/// `date_from` after `date_to`, an unknown action, a malformed vendor.
pub fn filter_of(q: &AuditQuery) -> Result<AuditFilter, ConsoleError> {
    let mut errors = Vec::new();
    if let (Some(from), Some(to)) = (q.date_from, q.date_to) {
        if from > to {
            errors.push(ValidationError::new("date_from", "is after date_to"));
        }
    }
    let action = match q.action.as_deref().map(AuditAction::parse_field) {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    if q.vendor.as_deref().is_some_and(|v| !valid_vendor(v)) {
        errors.push(ValidationError::new(
            "vendor",
            "must be 1 to 64 of A-Z a-z 0-9 _ . : - (e.g. paper:BTCUSDT)",
        ));
    }
    if !errors.is_empty() {
        return Err(ConsoleError::Invalid(errors));
    }
    let day_start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    Ok(AuditFilter {
        from: q.date_from.and_then(day_start),
        to: q
            .date_to
            .and_then(|d| d.checked_add_signed(Duration::days(1)))
            .and_then(day_start),
        action,
        vendor: q.vendor.clone(),
    })
}

/// Encodes a keyset position as the list's cursor (`<micros>_<uuid>`).
pub fn encode_cursor(key: AuditKey) -> String {
    format!(
        "{}_{}",
        key.timestamp.timestamp_micros(),
        key.txn_id.simple()
    )
}

/// Decodes a cursor of [`encode_cursor`].
///
/// # Errors
/// Anything else.
pub fn decode_cursor(cursor: &str) -> Result<AuditKey, ValidationError> {
    let invalid = || ValidationError::new("cursor", "is not a cursor returned by this list");
    let (micros, id) = cursor.split_once('_').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    Ok(AuditKey {
        timestamp: DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(invalid)?,
        txn_id: Uuid::parse_str(id).map_err(|_| invalid())?,
    })
}

fn key_of(row: &DecisionAuditRow) -> AuditKey {
    AuditKey {
        timestamp: row.timestamp,
        txn_id: row.txn_id,
    }
}

impl AuditService {
    /// A service over the visibility rules and the trail.
    pub fn new(access: Access, repo: Arc<dyn DecisionAuditRepo>) -> Self {
        Self { access, repo }
    }

    /// Whose rows the caller reads.
    fn scope(
        &self,
        caller: &Principal,
        asked: Option<TenantId>,
    ) -> Result<AuditScope, ConsoleError> {
        Access::reader(caller)?;
        if asked.is_some() || !caller.role.is_platform() {
            let tenant = self.access.target(caller, asked)?;
            return Ok(AuditScope::Tenant(caller.acting_in(tenant)));
        }
        Ok(AuditScope::Platform {
            user: caller.user_id,
            tenants: match caller.role {
                Role::Owner => None,
                _ => self.access.visible(caller)?,
            },
        })
    }

    /// A page of the trail, newest first.
    ///
    /// # Errors
    /// 403, 404 (tenant), invalid filters or cursor (422), storage failures.
    pub fn list(
        &self,
        caller: &Principal,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> Result<Page<DecisionAuditRow>, ConsoleError> {
        let filter = filter_of(query)?;
        let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
        let scope = self.scope(caller, query.tenant_id)?;
        let mut rows = self
            .repo
            .batch(&scope, &filter, after, page.limit() + 1, true)?;
        let next_cursor = if rows.len() > page.limit() as usize {
            rows.truncate(page.limit() as usize);
            rows.last().map(|r| encode_cursor(key_of(r)))
        } else {
            None
        };
        Ok(Page {
            items: rows,
            next_cursor,
        })
    }

    /// Starts an export: validates the filters and the caller's access now; the rows are read
    /// batch by batch as [`AuditExport::next_chunk`] is called.
    ///
    /// # Errors
    /// 403, 404 (tenant), invalid filters (422), storage failures.
    pub fn export(
        &self,
        caller: &Principal,
        query: &AuditQuery,
    ) -> Result<AuditExport, ConsoleError> {
        let filter = filter_of(query)?;
        let scope = self.scope(caller, query.tenant_id)?;
        Ok(AuditExport {
            repo: self.repo.clone(),
            scope,
            filter,
            after: None,
            header_sent: false,
            done: false,
            batch: EXPORT_BATCH,
            rows: 0,
        })
    }
}

/// A running export: each call of [`AuditExport::next_chunk`] reads one keyset batch and
/// returns it as RFC 4180 CSV (the header first).
pub struct AuditExport {
    repo: Arc<dyn DecisionAuditRepo>,
    scope: AuditScope,
    filter: AuditFilter,
    after: Option<AuditKey>,
    header_sent: bool,
    done: bool,
    batch: u32,
    rows: u64,
}

impl std::fmt::Debug for AuditExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditExport")
            .field("rows", &self.rows)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

fn number(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// The CSV lines of `rows` (and the header first when `header`).
///
/// # Errors
/// Only the writer's own (none into memory).
pub fn csv_chunk(rows: &[DecisionAuditRow], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 180 + 128));
    if header {
        writer.write_record(CSV_HEADER)?;
    }
    for r in rows {
        writer.write_record([
            r.timestamp
                .to_rfc3339_opts(SecondsFormat::Micros, true)
                .as_str(),
            &r.tenant_id.to_string(),
            &r.txn_id.to_string(),
            &r.vendor_normalized,
            r.action.as_str(),
            r.not_auto_post_reason.as_deref().unwrap_or_default(),
            &number(r.calibrated_p),
            &number(r.threshold_used),
            &r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

impl AuditExport {
    /// Rows exported so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The next chunk of CSV, `None` when everything was sent.
    ///
    /// # Errors
    /// Storage failures (the stream then ends with an error).
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ConsoleError> {
        if self.done {
            return Ok(None);
        }
        let rows = self
            .repo
            .batch(&self.scope, &self.filter, self.after, self.batch, false)?;
        if (rows.len() as u32) < self.batch {
            self.done = true;
        }
        if rows.is_empty() && self.header_sent {
            return Ok(None);
        }
        self.after = rows.last().map(key_of).or(self.after);
        self.rows += rows.len() as u64;
        let chunk = csv_chunk(&rows, !self.header_sent).map_err(|e| {
            ConsoleError::Repo(alphapulse_domain::RepoError::Internal(e.to_string()))
        })?;
        self.header_sent = true;
        Ok(Some(chunk))
    }
}

/// `audit_export_YYYYMMDD.csv` for `now`.
pub fn export_file_name(now: DateTime<Utc>) -> String {
    format!("audit_export_{}.csv", now.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::{
        ports::{Actor, MockDecisionAuditRepo, MockTenantRepo},
        UserId,
    };
    use chrono::TimeZone;

    use super::*;

    fn row(i: u32) -> DecisionAuditRow {
        DecisionAuditRow {
            timestamp: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, i).unwrap(),
            tenant_id: TenantId(Uuid::nil()),
            txn_id: Uuid::from_u128(u128::from(i)),
            vendor_normalized: "paper:BTCUSDT".into(),
            action: AuditAction::Queued,
            not_auto_post_reason: Some("below_threshold".into()),
            calibrated_p: Some(0.8125),
            threshold_used: Some(0.9),
            user_id: None,
        }
    }

    #[test]
    fn filters_are_validated_and_days_are_inclusive() {
        let day = |d| NaiveDate::from_ymd_opt(2025, 3, d);
        let f = filter_of(&AuditQuery {
            date_from: day(2),
            date_to: day(2),
            ..AuditQuery::default()
        })
        .unwrap();
        assert_eq!(
            f.from,
            Some(Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap())
        );
        assert_eq!(
            f.to,
            Some(Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap())
        );
        let bad = filter_of(&AuditQuery {
            date_from: day(3),
            date_to: day(2),
            action: Some("deleted".into()),
            vendor: Some("a b".into()),
            ..AuditQuery::default()
        });
        let Err(ConsoleError::Invalid(errors)) = bad else {
            panic!("{bad:?}")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["date_from", "action", "vendor"]);
    }

    #[test]
    fn csv_has_the_seed_header_and_quotes_per_rfc_4180() {
        let mut r = row(1);
        r.vendor_normalized = "x,\"y\"".into();
        let text = String::from_utf8(csv_chunk(&[r], true).unwrap()).unwrap();
        let mut lines = text.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("timestamp,tenant_id,txn_id,vendor_normalized,action,not_auto_post_reason,calibrated_p,threshold_used,user_id")
        );
        assert_eq!(
            lines.next(),
            Some("2025-03-01T00:00:01.000000Z,00000000-0000-0000-0000-000000000000,00000000-0000-0000-0000-000000000001,\"x,\"\"y\"\"\",queued,below_threshold,0.8125,0.9,")
        );
    }

    #[test]
    fn the_export_reads_keyset_batches_until_a_short_one() {
        let mut repo = MockDecisionAuditRepo::new();
        let mut seq = mockall::Sequence::new();
        repo.expect_batch()
            .withf(|_, _, after, limit, newest| after.is_none() && *limit == 2 && !newest)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _, _, _| Ok(vec![row(1), row(2)]));
        repo.expect_batch()
            .withf(|_, _, after, _, _| after.is_some_and(|k| k.txn_id == Uuid::from_u128(2)))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _, _, _| Ok(vec![row(3)]));
        let tenant = TenantId::new_random();
        let mut export = AuditExport {
            repo: Arc::new(repo),
            scope: AuditScope::Tenant(Actor::system(tenant)),
            filter: AuditFilter::default(),
            after: None,
            header_sent: false,
            done: false,
            batch: 2,
            rows: 0,
        };
        let first = String::from_utf8(export.next_chunk().unwrap().unwrap()).unwrap();
        assert!(first.starts_with("timestamp,"));
        assert_eq!(first.lines().count(), 3);
        let second = String::from_utf8(export.next_chunk().unwrap().unwrap()).unwrap();
        assert_eq!(second.lines().count(), 1);
        assert!(export.next_chunk().unwrap().is_none());
        assert_eq!(export.rows(), 3);
        let _ = (UserId::new_random(), MockTenantRepo::new());
    }

    #[test]
    fn cursors_round_trip() {
        let key = key_of(&row(7));
        assert_eq!(decode_cursor(&encode_cursor(key)).unwrap(), key);
        assert!(decode_cursor("nope").is_err());
    }
}
