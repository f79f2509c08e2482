//! Rules versions: accepting or rejecting a candidate writes a new version, rollback writes a
//! copy of an older one; each under the tenant's rules lock and with its audit row.

#[allow(clippy::wildcard_imports)]
use super::*;

struct NewVersion<'a> {
    rules: &'a [Rule],
    change: RulesChange,
    candidate_id: Option<Uuid>,
    rolled_back_to: Option<i32>,
    at: DateTime<Utc>,
}

fn insert_version(
    conn: &mut PgConnection,
    actor: &Actor,
    parent: Option<&RulesVersion>,
    new: &NewVersion<'_>,
) -> Result<RulesVersion> {
    let rules = serde_json::to_value(new.rules).map_err(|e| corrupt("rules_versions", e))?;
    let row: VersionRow = diesel::insert_into(rv::table)
        .values((
            rv::tenant_id.eq(tenant(actor)),
            rv::version.eq(parent.map_or(1, |p| p.version + 1)),
            rv::parent_version.eq(parent.map(|p| p.version)),
            rv::rules.eq(rules),
            rv::change.eq(new.change.as_str()),
            rv::candidate_id.eq(new.candidate_id),
            rv::rolled_back_to.eq(new.rolled_back_to),
            rv::created_by.eq(actor.user_id.map(|u| u.as_uuid())),
            rv::created_at.eq(new.at),
        ))
        .returning(VersionRow::as_returning())
        .get_result(conn)?;
    row.try_into()
}

/// Appends the change's `audit_log` row and its trail row (whose `txn_id` is the former's id).
fn audit_change(
    conn: &mut PgConnection,
    actor: &Actor,
    note: &AuditNote,
    target: String,
    action: AuditAction,
    vendor: String,
    at: DateTime<Utc>,
) -> Result<()> {
    let id = audit::append(conn, &note.success(actor.tenant_id, target))?;
    decision_audit::append(
        conn,
        &DecisionAuditRow {
            timestamp: at,
            tenant_id: actor.tenant_id,
            txn_id: id.0,
            vendor_normalized: vendor,
            action,
            not_auto_post_reason: None,
            calibrated_p: None,
            threshold_used: None,
            user_id: actor.user_id,
        },
    )
}

/// Accepts or rejects a pending candidate (see [`RulesRepo::review`]).
///
/// # Errors
/// Not found; already reviewed (conflict); database failures.
pub fn review(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    accept: bool,
    at: DateTime<Utc>,
    note: &AuditNote,
) -> Result<(RuleCandidate, Option<RulesVersion>)> {
    lock_rules(conn, actor)?;
    let row = candidate_row(conn, actor, id, true)?;
    if row.status != CandidateStatus::Pending.as_str() {
        return Err(Error::Conflict(format!(
            "rule candidate was {} already",
            row.status
        )));
    }
    let status = if accept {
        CandidateStatus::Accepted
    } else {
        CandidateStatus::Rejected
    };
    let updated: CandidateRow = diesel::update(
        rc::table
            .filter(rc::tenant_id.eq(tenant(actor)))
            .filter(rc::id.eq(id)),
    )
    .set((
        rc::status.eq(status.as_str()),
        rc::reviewed_by.eq(actor.user_id.map(|u| u.as_uuid())),
        rc::reviewed_at.eq(Some(at)),
    ))
    .returning(CandidateRow::as_returning())
    .get_result(conn)?;
    let candidate = RuleCandidate::try_from(updated)?;
    let vendor = format!("rules:{}", candidate.pattern.symbol);
    let target = format!("rule_candidate:{id}");
    if !accept {
        audit_change(
            conn,
            actor,
            note,
            target,
            AuditAction::RuleRejected,
            vendor,
            at,
        )?;
        return Ok((candidate, None));
    }
    let parent = current(conn, actor)?;
    let mut rules: Vec<Rule> = parent.as_ref().map(|p| p.rules.clone()).unwrap_or_default();
    if !rules.iter().any(|r| r.pattern == candidate.pattern) {
        rules.push(Rule {
            candidate_id: candidate.id,
            pattern: candidate.pattern.clone(),
            evidence: candidate.evidence.clone(),
            accepted_by: actor.user_id,
            accepted_at: at,
        });
    }
    let version = insert_version(
        conn,
        actor,
        parent.as_ref(),
        &NewVersion {
            rules: &rules,
            change: RulesChange::Accept,
            candidate_id: Some(candidate.id),
            rolled_back_to: None,
            at,
        },
    )?;
    let note = AuditNote {
        details: merge(&note.details, json!({ "version": version.version })),
        ..note.clone()
    };
    audit_change(
        conn,
        actor,
        &note,
        target,
        AuditAction::RuleAccepted,
        vendor,
        at,
    )?;
    Ok((candidate, Some(version)))
}

/// Writes a version equal to `to_version` (see [`RulesRepo::rollback`]).
///
/// # Errors
/// Unknown version (not found); database failures.
pub fn rollback(
    conn: &mut PgConnection,
    actor: &Actor,
    to_version: i32,
    at: DateTime<Utc>,
    note: &AuditNote,
) -> Result<RulesVersion> {
    lock_rules(conn, actor)?;
    let target: RulesVersion = rv::table
        .filter(rv::tenant_id.eq(tenant(actor)))
        .filter(rv::version.eq(to_version))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound("rules version"))?
        .try_into()?;
    let parent = current(conn, actor)?;
    let version = insert_version(
        conn,
        actor,
        parent.as_ref(),
        &NewVersion {
            rules: &target.rules,
            change: RulesChange::Rollback,
            candidate_id: None,
            rolled_back_to: Some(to_version),
            at,
        },
    )?;
    let note = AuditNote {
        details: merge(
            &note.details,
            json!({ "version": version.version, "rolled_back_to": to_version }),
        ),
        ..note.clone()
    };
    let vendor = format!("rules:v{}", version.version);
    let target = format!("rules_version:{}", version.id);
    audit_change(
        conn,
        actor,
        &note,
        target,
        AuditAction::RulesRolledBack,
        vendor,
        at,
    )?;
    Ok(version)
}

fn merge(base: &serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    let mut out = base.clone();
    if let (Some(out), serde_json::Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}
