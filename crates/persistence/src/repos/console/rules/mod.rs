//! `rule_candidates` and `rules_versions`. Reviews and rollbacks run under a per-tenant
//! transaction-level advisory lock (so two reviews cannot both build on the same version) and
//! append their `audit_log` and `decision_audit_log` rows in the same transaction.

use alphapulse_domain::{
    ports::{
        regime_text, Actor, AuditAction, CandidateStatus, DecisionAuditRow, Evidence,
        MinedCandidate, Rule, RuleCandidate, RulePattern, RulesChange, RulesRepo, RulesVersion,
    },
    AuditNote, Page, PageRequest, RepoError, Symbol, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{
    pg::PgConnection,
    prelude::*,
    sql_types::{BigInt, Text},
};
use serde_json::json;
use uuid::Uuid;

use super::{corrupt, decision_audit, regime_from_text, side_from_text};
use crate::{
    error::Result,
    repos::{audit, cursor},
    schema::{rule_candidates as rc, rules_versions as rv},
    Db, Error,
};

mod versions;
pub use versions::{review, rollback};

/// Seed of the rules lock's key (`hashtextextended('<tenant>', seed)`), distinct from the
/// trading lock's.
const RULES_LOCK_SEED: i64 = 0x5255_4c45; // "RULE"

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = rc, check_for_backend(diesel::pg::Pg))]
struct CandidateRow {
    id: Uuid,
    symbol: String,
    side: String,
    ensemble_id: Uuid,
    regime: String,
    evidence_count: i32,
    evidence_precision: f64,
    evidence_std_dev: Option<f64>,
    status: String,
    mined_at: DateTime<Utc>,
    reviewed_by: Option<Uuid>,
    reviewed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<CandidateRow> for RuleCandidate {
    type Error = Error;

    fn try_from(r: CandidateRow) -> Result<Self> {
        const T: &str = "rule_candidates";
        Ok(RuleCandidate {
            id: r.id,
            pattern: RulePattern {
                symbol: Symbol::parse(&r.symbol).map_err(|e| corrupt(T, e))?,
                side: side_from_text(T, &r.side)?,
                ensemble_id: r.ensemble_id,
                regime: regime_from_text(T, &r.regime)?,
            },
            evidence: Evidence {
                count: u32::try_from(r.evidence_count).unwrap_or(0),
                precision: r.evidence_precision,
                std_dev: r.evidence_std_dev,
            },
            status: CandidateStatus::parse_field(&r.status).map_err(|e| corrupt(T, e))?,
            mined_at: r.mined_at,
            reviewed_by: r.reviewed_by.map(UserId),
            reviewed_at: r.reviewed_at,
            created_at: r.created_at,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = rv, check_for_backend(diesel::pg::Pg))]
struct VersionRow {
    id: Uuid,
    version: i32,
    parent_version: Option<i32>,
    rules: serde_json::Value,
    change: String,
    candidate_id: Option<Uuid>,
    rolled_back_to: Option<i32>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<VersionRow> for RulesVersion {
    type Error = Error;

    fn try_from(r: VersionRow) -> Result<Self> {
        const T: &str = "rules_versions";
        Ok(RulesVersion {
            id: r.id,
            version: r.version,
            parent_version: r.parent_version,
            rules: serde_json::from_value(r.rules).map_err(|e| corrupt(T, e))?,
            change: RulesChange::parse_field(&r.change).map_err(|e| corrupt(T, e))?,
            candidate_id: r.candidate_id,
            rolled_back_to: r.rolled_back_to,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
        })
    }
}

fn tenant(actor: &Actor) -> Uuid {
    actor.tenant_id.as_uuid()
}

fn pattern_filter<'a>(actor: &Actor, p: &'a RulePattern) -> rc::BoxedQuery<'a, diesel::pg::Pg> {
    rc::table
        .filter(rc::tenant_id.eq(tenant(actor)))
        .filter(rc::symbol.eq(p.symbol.as_str()))
        .filter(rc::side.eq(p.side.as_str()))
        .filter(rc::ensemble_id.eq(p.ensemble_id))
        .filter(rc::regime.eq(regime_text(p.regime)))
        .into_boxed()
}

/// Stores mined patterns (see [`RulesRepo::upsert_candidates`]).
///
/// # Errors
/// Database failures.
pub fn upsert_candidates(
    conn: &mut PgConnection,
    actor: &Actor,
    mined: &[MinedCandidate],
    at: DateTime<Utc>,
) -> Result<Vec<RuleCandidate>> {
    lock_rules(conn, actor)?;
    let mut out = Vec::with_capacity(mined.len());
    for m in mined {
        let reviewed: i64 = pattern_filter(actor, &m.pattern)
            .filter(rc::status.ne(CandidateStatus::Pending.as_str()))
            .count()
            .get_result(conn)?;
        if reviewed > 0 {
            continue;
        }
        let e = &m.evidence;
        let count = i32::try_from(e.count).unwrap_or(i32::MAX);
        let pending: Option<Uuid> = pattern_filter(actor, &m.pattern)
            .filter(rc::status.eq(CandidateStatus::Pending.as_str()))
            .select(rc::id)
            .first(conn)
            .optional()?;
        let row: CandidateRow = match pending {
            Some(id) => diesel::update(
                rc::table
                    .filter(rc::tenant_id.eq(tenant(actor)))
                    .filter(rc::id.eq(id)),
            )
            .set((
                rc::evidence_count.eq(count),
                rc::evidence_precision.eq(e.precision),
                rc::evidence_std_dev.eq(e.std_dev),
                rc::mined_at.eq(at),
            ))
            .returning(CandidateRow::as_returning())
            .get_result(conn)?,
            None => diesel::insert_into(rc::table)
                .values((
                    rc::tenant_id.eq(tenant(actor)),
                    rc::symbol.eq(m.pattern.symbol.as_str()),
                    rc::side.eq(m.pattern.side.as_str()),
                    rc::ensemble_id.eq(m.pattern.ensemble_id),
                    rc::regime.eq(regime_text(m.pattern.regime)),
                    rc::evidence_count.eq(count),
                    rc::evidence_precision.eq(e.precision),
                    rc::evidence_std_dev.eq(e.std_dev),
                    rc::mined_at.eq(at),
                    rc::created_at.eq(at),
                ))
                .returning(CandidateRow::as_returning())
                .get_result(conn)?,
        };
        out.push(row.try_into()?);
    }
    Ok(out)
}

/// A page of candidates, newest first.
///
/// # Errors
/// A bad cursor; database failures.
pub fn candidates(
    conn: &mut PgConnection,
    actor: &Actor,
    status: Option<CandidateStatus>,
    page: &PageRequest,
) -> Result<Page<RuleCandidate>> {
    let mut query = rc::table
        .filter(rc::tenant_id.eq(tenant(actor)))
        .select(CandidateRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(rc::status.eq(status.as_str()));
    }
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            rc::created_at
                .lt(at)
                .or(rc::created_at.eq(at).and(rc::id.lt(id))),
        );
    }
    let mut rows: Vec<CandidateRow> = query
        .order((rc::created_at.desc(), rc::id.desc()))
        .limit(i64::from(page.limit()) + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(RuleCandidate::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

fn candidate_row(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> Result<CandidateRow> {
    let query = rc::table
        .filter(rc::tenant_id.eq(tenant(actor)))
        .filter(rc::id.eq(id))
        .select(CandidateRow::as_select());
    let found = if lock {
        query.for_update().first(conn).optional()?
    } else {
        query.first(conn).optional()?
    };
    found.ok_or(Error::NotFound("rule candidate"))
}

/// The newest version.
///
/// # Errors
/// Database failures.
pub fn current(conn: &mut PgConnection, actor: &Actor) -> Result<Option<RulesVersion>> {
    rv::table
        .filter(rv::tenant_id.eq(tenant(actor)))
        .order(rv::version.desc())
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?
        .map(RulesVersion::try_from)
        .transpose()
}

/// A page of versions, newest first.
///
/// # Errors
/// A bad cursor; database failures.
pub fn versions(
    conn: &mut PgConnection,
    actor: &Actor,
    page: &PageRequest,
) -> Result<Page<RulesVersion>> {
    let mut query = rv::table
        .filter(rv::tenant_id.eq(tenant(actor)))
        .select(VersionRow::as_select())
        .into_boxed();
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            rv::created_at
                .lt(at)
                .or(rv::created_at.eq(at).and(rv::id.lt(id))),
        );
    }
    let mut rows: Vec<VersionRow> = query
        .order((rv::created_at.desc(), rv::id.desc()))
        .limit(i64::from(page.limit()) + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(RulesVersion::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

fn lock_rules(conn: &mut PgConnection, actor: &Actor) -> Result<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
        .bind::<Text, _>(actor.tenant_id.to_string())
        .bind::<BigInt, _>(RULES_LOCK_SEED)
        .execute(conn)?;
    Ok(())
}

/// [`RulesRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgRulesRepo {
    db: Db,
}

impl PgRulesRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl RulesRepo for PgRulesRepo {
    fn upsert_candidates(
        &self,
        actor: &Actor,
        mined: &[MinedCandidate],
        at: DateTime<Utc>,
    ) -> Result<Vec<RuleCandidate>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| upsert_candidates(c, actor, mined, at))?)
    }

    fn candidates(
        &self,
        actor: &Actor,
        status: Option<CandidateStatus>,
        page: &PageRequest,
    ) -> Result<Page<RuleCandidate>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| candidates(c, actor, status, page))?)
    }

    fn candidate(&self, actor: &Actor, id: Uuid) -> Result<RuleCandidate, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| candidate_row(c, actor, id, false)?.try_into())?)
    }

    fn current(&self, actor: &Actor) -> Result<Option<RulesVersion>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| current(c, actor))?)
    }

    fn versions(&self, actor: &Actor, page: &PageRequest) -> Result<Page<RulesVersion>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| versions(c, actor, page))?)
    }

    fn review(
        &self,
        actor: &Actor,
        id: Uuid,
        accept: bool,
        at: DateTime<Utc>,
        note: &AuditNote,
    ) -> Result<(RuleCandidate, Option<RulesVersion>), RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| review(c, actor, id, accept, at, note))?)
    }

    fn rollback(
        &self,
        actor: &Actor,
        to_version: i32,
        at: DateTime<Utc>,
        note: &AuditNote,
    ) -> Result<RulesVersion, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| rollback(c, actor, to_version, at, note))?)
    }
}
