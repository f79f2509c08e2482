//! `risk_budgets` and `risk_budget_allocations`: versioned, append-only risk budgets. A new
//! version is written with its allocations, its audit row and (for an idempotent request) its
//! stored answer in one transaction; the version number is checked against the newest one in
//! that transaction, so two concurrent rebalances cannot both write version `n + 1`.

use std::collections::HashMap;

use alphapulse_domain::{
    ports::{
        Actor, BudgetAllocation, BudgetEntityType, EntityScope, IdempotentAnswer, NewRiskBudget,
        RiskBudget, RiskBudgetRepo,
    },
    AuditNote, Regime, RepoError, TextEnum, UserId, ValidationError,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{audit, idempotency};
use crate::{
    error::Result,
    schema::{risk_budget_allocations as allocs, risk_budgets as budgets},
    Db, Error,
};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = budgets, check_for_backend(diesel::pg::Pg))]
struct BudgetRow {
    id: Uuid,
    version: i32,
    allocation_method: String,
    total_budget: Decimal,
    volatility_target: f64,
    leverage_limit: f64,
    regime: Option<String>,
    reason: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = allocs, check_for_backend(diesel::pg::Pg))]
struct AllocationRow {
    budget_id: Uuid,
    entity: String,
    entity_type: String,
    allocated_amount: Decimal,
    scope: serde_json::Value,
}

fn corrupt(message: impl ToString) -> Error {
    Error::Corrupt {
        table: "risk_budgets",
        message: message.to_string(),
    }
}

fn allocation_of(row: AllocationRow) -> Result<BudgetAllocation> {
    Ok(BudgetAllocation {
        entity: row.entity,
        entity_type: BudgetEntityType::parse_field(&row.entity_type).map_err(corrupt)?,
        allocated_amount: row.allocated_amount,
        scope: serde_json::from_value::<EntityScope>(row.scope).map_err(corrupt)?,
    })
}

/// The budgets of `rows` with their allocations (one query for all of them).
fn with_allocations(
    conn: &mut PgConnection,
    actor: &Actor,
    rows: Vec<BudgetRow>,
) -> Result<Vec<RiskBudget>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut by_budget: HashMap<Uuid, Vec<BudgetAllocation>> = HashMap::new();
    let alloc_rows: Vec<AllocationRow> = allocs::table
        .filter(allocs::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(allocs::budget_id.eq_any(&ids))
        .order((allocs::budget_id, allocs::ordinal))
        .select(AllocationRow::as_select())
        .load(conn)?;
    for row in alloc_rows {
        let budget = row.budget_id;
        by_budget
            .entry(budget)
            .or_default()
            .push(allocation_of(row)?);
    }
    rows.into_iter()
        .map(|r| {
            Ok(RiskBudget {
                allocations: by_budget.remove(&r.id).unwrap_or_default(),
                id: r.id,
                version: r.version,
                allocation_method: r.allocation_method,
                total_budget: r.total_budget,
                volatility_target: r.volatility_target,
                leverage_limit: r.leverage_limit,
                regime: r
                    .regime
                    .as_deref()
                    .map(Regime::parse_field)
                    .transpose()
                    .map_err(corrupt)?,
                reason: r.reason,
                created_by: r.created_by.map(UserId),
                created_at: r.created_at,
            })
        })
        .collect()
}

/// The newest version, if any.
///
/// # Errors
/// Database failures.
pub fn current(conn: &mut PgConnection, actor: &Actor) -> Result<Option<RiskBudget>> {
    let row: Option<BudgetRow> = budgets::table
        .filter(budgets::tenant_id.eq(actor.tenant_id.as_uuid()))
        .order(budgets::version.desc())
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?;
    Ok(with_allocations(conn, actor, row.into_iter().collect())?.pop())
}

/// The version in force at `since` and every later one, oldest first.
///
/// # Errors
/// Database failures.
pub fn versions_since(
    conn: &mut PgConnection,
    actor: &Actor,
    since: DateTime<Utc>,
) -> Result<Vec<RiskBudget>> {
    let tenant = actor.tenant_id.as_uuid();
    let before: Option<BudgetRow> = budgets::table
        .filter(budgets::tenant_id.eq(tenant))
        .filter(budgets::created_at.lt(since))
        .order(budgets::version.desc())
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?;
    let later: Vec<BudgetRow> = budgets::table
        .filter(budgets::tenant_id.eq(tenant))
        .filter(budgets::created_at.ge(since))
        .order(budgets::version.asc())
        .select(BudgetRow::as_select())
        .load(conn)?;
    with_allocations(conn, actor, before.into_iter().chain(later).collect())
}

fn check(budget: &NewRiskBudget) -> Result<()> {
    for a in &budget.allocations {
        let name = a.entity.trim();
        if name.is_empty() || a.entity.chars().count() > 64 || a.entity.contains('\0') {
            return Err(ValidationError::new("entity", "must be 1 to 64 characters").into());
        }
        if a.allocated_amount < Decimal::ZERO {
            return Err(ValidationError::new("allocated_amount", "must be at least 0").into());
        }
    }
    if budget.total_budget < Decimal::ZERO {
        return Err(ValidationError::new("total_budget", "must be at least 0").into());
    }
    Ok(())
}

/// Writes version `budget.version` (which must follow the newest) with its allocations, the
/// audit row and the idempotent answer, in the caller's transaction.
///
/// # Errors
/// [`Error::Conflict`] when another version was written meanwhile; [`Error::Invalid`].
pub fn save(
    conn: &mut PgConnection,
    actor: &Actor,
    budget: &NewRiskBudget,
    note: &AuditNote,
    answer: Option<&IdempotentAnswer>,
) -> Result<RiskBudget> {
    check(budget)?;
    let tenant = actor.tenant_id.as_uuid();
    // Serialise writers of this tenant's budget for the rest of the transaction, then check
    // the version: the loser of a race gets a conflict, never a duplicate version.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('risk_budget:' || $1, 0))")
        .bind::<diesel::sql_types::Text, _>(tenant.to_string())
        .execute(conn)?;
    let newest: Option<i32> = budgets::table
        .filter(budgets::tenant_id.eq(tenant))
        .select(diesel::dsl::max(budgets::version))
        .first(conn)?;
    if newest.unwrap_or(0) + 1 != budget.version {
        return Err(Error::Conflict(
            "the risk budget was changed by another request; retry".to_owned(),
        ));
    }
    let row: BudgetRow = diesel::insert_into(budgets::table)
        .values((
            budgets::tenant_id.eq(tenant),
            budgets::version.eq(budget.version),
            budgets::allocation_method.eq(&budget.allocation_method),
            budgets::total_budget.eq(budget.total_budget),
            budgets::volatility_target.eq(budget.volatility_target),
            budgets::leverage_limit.eq(budget.leverage_limit),
            budgets::regime.eq(budget.regime.map(|r| r.as_str())),
            budgets::reason.eq(&budget.reason),
            budgets::created_by.eq(actor.user_id.map(|u| u.as_uuid())),
        ))
        .returning(BudgetRow::as_returning())
        .get_result(conn)?;
    for (ordinal, a) in budget.allocations.iter().enumerate() {
        let scope = serde_json::to_value(&a.scope).map_err(corrupt)?;
        diesel::insert_into(allocs::table)
            .values((
                allocs::tenant_id.eq(tenant),
                allocs::budget_id.eq(row.id),
                allocs::ordinal.eq(i32::try_from(ordinal).unwrap_or(i32::MAX)),
                allocs::entity.eq(a.entity.trim()),
                allocs::entity_type.eq(a.entity_type.as_str()),
                allocs::allocated_amount.eq(a.allocated_amount),
                allocs::scope.eq(scope),
            ))
            .execute(conn)?;
    }
    audit::append(
        conn,
        &note.success(actor.tenant_id, format!("risk_budget:{}", row.id)),
    )?;
    if let Some(a) = answer {
        idempotency::complete(conn, actor, &a.scope, &a.key, a.status, &a.body)?;
    }
    with_allocations(conn, actor, vec![row])?
        .pop()
        .ok_or(Error::NotFound("risk budget"))
}

/// [`RiskBudgetRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgRiskBudgetRepo {
    db: Db,
}

impl PgRiskBudgetRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl RiskBudgetRepo for PgRiskBudgetRepo {
    fn current(&self, actor: &Actor) -> Result<Option<RiskBudget>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| current(c, actor))?)
    }

    fn versions_since(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
    ) -> Result<Vec<RiskBudget>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| versions_since(c, actor, since))?)
    }

    fn save(
        &self,
        actor: &Actor,
        budget: &NewRiskBudget,
        audit: &AuditNote,
        answer: Option<IdempotentAnswer>,
    ) -> Result<RiskBudget, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| save(c, actor, budget, audit, answer.as_ref()))?)
    }
}
