//! Rebalancing: the idempotent write of a new budget version (or the audited skip).

#[allow(clippy::wildcard_imports)]
use super::*;

impl BudgetService {
    /// Rebalances the budget (admin): writes a new version when a trigger fires, when forced
    /// or when there is none, else skips; audited either way. With `key`, a retry with the
    /// same request answers the first result and writes nothing.
    ///
    /// # Errors
    /// 409 when the key is in use or was used with another request, or another rebalance
    /// wrote a version meanwhile; the exchange's and storage failures.
    pub fn rebalance(
        &self,
        principal: &Principal,
        key: Option<String>,
        force: bool,
    ) -> Result<RebalanceAnswer, ServiceError> {
        let actor = principal.actor();
        let ports = &self.core.ports;
        if let Some(key) = &key {
            match ports.idempotency.begin(
                &actor,
                REBALANCE_SCOPE,
                key,
                &request_hash(force),
                REBALANCE_STALE_AFTER,
            )? {
                // A claim left unfinished by a crashed process: a rebalance writes one
                // version in one transaction, so running it again is the reconciliation.
                IdempotencyBegin::Started | IdempotencyBegin::Resumed { .. } => {}
                IdempotencyBegin::Completed { status, body } => {
                    return Ok(RebalanceAnswer::Replayed { status, body })
                }
                IdempotencyBegin::InProgress => return Err(ServiceError::KeyInProgress),
                IdempotencyBegin::Mismatch => return Err(ServiceError::KeyMismatch),
            }
        }
        let done = self.rebalance_claimed(principal, &actor, key.as_deref(), force);
        if done.is_err() {
            if let Some(key) = &key {
                if let Err(e) = ports.idempotency.release(&actor, REBALANCE_SCOPE, key) {
                    tracing::warn!(error = %e, "idempotency key not released");
                }
            }
        }
        done.map(RebalanceAnswer::Fresh)
    }

    fn rebalance_claimed(
        &self,
        principal: &Principal,
        actor: &Actor,
        key: Option<&str>,
        force: bool,
    ) -> Result<RebalanceView, ServiceError> {
        // One rebalance of a tenant at a time in this process; across processes the
        // repository's version check makes the loser a conflict.
        let lock = self
            .locks
            .get_with(actor.tenant_id, || Arc::new(std::sync::Mutex::new(())));
        let _guard = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let plan = self.plan(actor, force)?;
        let now = self.core.now();
        let write = plan.requires_rebalancing();
        let (status, version, allocations) = if write {
            let next = plan.current.as_ref().map_or(1, |b| b.version + 1);
            ("completed", Some(next), plan.targets())
        } else {
            (
                "skipped",
                plan.current.as_ref().map(|b| b.version),
                plan.current
                    .as_ref()
                    .map(current_targets)
                    .unwrap_or_default(),
            )
        };
        let view = RebalanceView {
            status,
            reason: plan.reason(),
            version,
            changes: plan.changes.clone(),
            new_allocations: allocations,
            timestamp: now,
        };
        let body = serde_json::to_value(&view).map_err(|e| {
            alphapulse_domain::RepoError::Internal(format!("rebalance answer: {e}"))
        })?;
        let note = principal.note(
            REBALANCE_SCOPE,
            serde_json::json!({
                "status": status,
                "version": version,
                "force": force,
                "reason": view.reason,
            }),
        );
        let answer = key.map(|k| IdempotentAnswer {
            scope: REBALANCE_SCOPE.to_owned(),
            key: k.to_owned(),
            status: 200,
            body: body.clone(),
        });
        let ports = &self.core.ports;
        if let Some(next) = version.filter(|_| write) {
            let new = NewRiskBudget {
                version: next,
                allocation_method: plan.method.as_str().to_owned(),
                total_budget: plan.total,
                volatility_target: plan.volatility_target,
                leverage_limit: plan.leverage_limit,
                regime: RiskCore::regime_of(&plan.regime),
                reason: view.reason.clone(),
                allocations: plan
                    .targets()
                    .into_iter()
                    .map(|t| BudgetAllocation {
                        entity: t.entity,
                        entity_type: t.entity_type,
                        allocated_amount: t.allocated_amount,
                        scope: t.constraints,
                    })
                    .collect(),
            };
            let stored = ports.budgets.save(actor, &new, &note, answer)?;
            tracing::info!(version = stored.version, "risk budget rebalanced");
        } else {
            let entry: NewAuditEntry = note.success(
                actor.tenant_id,
                plan.current
                    .as_ref()
                    .map_or("risk_budget:none".to_owned(), |b| {
                        format!("risk_budget:{}", b.id)
                    }),
            );
            match answer {
                Some(a) => ports
                    .idempotency
                    .complete(actor, &a.scope, &a.key, a.status, &a.body, &entry)?,
                None => {
                    ports.audit.append(entry)?;
                }
            }
            tracing::info!("risk budget rebalance skipped");
        }
        Ok(view)
    }
}
