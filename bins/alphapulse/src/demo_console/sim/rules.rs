//! The pilot's rules history: mining candidates, reviewing them and rolling a version back.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Pilot {
    /// Mines the history so far: the patterns with the most evidence, up to `target`
    /// candidates in all for the tenant.
    pub(super) fn mine(&self, run: &mut Run, target: usize, at: DateTime<Utc>) -> Result<()> {
        let known: Vec<&Decision> = run
            .history
            .iter()
            .filter(|d| d.created_at + Duration::days(2) <= at)
            .collect();
        let known: Vec<Decision> = known.into_iter().cloned().collect();
        let evidence = evidence_by_pattern(&known, &run.closes);
        let existing = self
            .rules
            .candidates(
                &run.actor,
                None,
                &alphapulse_domain::PageRequest::new(Some(500), None).map_err(|e| anyhow!(e))?,
            )
            .context("reading candidates")?
            .items;
        let mut ranked: Vec<(RulePattern, alphapulse_domain::ports::Evidence)> =
            evidence.into_iter().collect();
        ranked.sort_by(|a, b| {
            b.1.count
                .cmp(&a.1.count)
                .then(b.1.precision.total_cmp(&a.1.precision))
        });
        let mut mined: Vec<MinedCandidate> = Vec::new();
        let mut total = existing.len();
        for (pattern, evidence) in ranked {
            let pending_or_new = match existing.iter().find(|c| c.pattern == pattern) {
                Some(c) => c.status == alphapulse_domain::ports::CandidateStatus::Pending,
                None if total < target => {
                    total += 1;
                    true
                }
                None => false,
            };
            if pending_or_new {
                mined.push(MinedCandidate { pattern, evidence });
            }
        }
        if !mined.is_empty() {
            self.rules
                .upsert_candidates(&run.actor, &mined, at)
                .context("storing demo candidates")?;
        }
        run.counts.candidates = total;
        Ok(())
    }

    /// Accepts the most precise pending candidates and rejects the least.
    pub(super) fn review(&self, run: &mut Run, at: DateTime<Utc>) -> Result<()> {
        let mut pending = self
            .rules
            .candidates(
                &run.actor,
                Some(alphapulse_domain::ports::CandidateStatus::Pending),
                &alphapulse_domain::PageRequest::new(Some(500), None).map_err(|e| anyhow!(e))?,
            )
            .context("reading candidates")?
            .items;
        pending.sort_by(|a, b| b.evidence.precision.total_cmp(&a.evidence.precision));
        let actor = Actor {
            tenant_id: run.actor.tenant_id,
            user_id: run.admin,
        };
        let (accept, reject) = REVIEWS;
        for (i, c) in pending.iter().take(accept).enumerate() {
            let when = at + Duration::minutes(i as i64 * 7);
            self.rules
                .review(&actor, c.id, true, when, &note(run.admin, "rules.accept"))
                .context("accepting a demo candidate")?;
            run.counts.reviews += 1;
        }
        for (i, c) in pending.iter().rev().take(reject).enumerate() {
            let when = at + Duration::minutes(40 + i as i64 * 5);
            self.rules
                .review(&actor, c.id, false, when, &note(run.admin, "rules.reject"))
                .context("rejecting a demo candidate")?;
            run.counts.reviews += 1;
        }
        Ok(())
    }

    /// Rolls the rules back one version (a rule turned out too eager).
    pub(super) fn rollback(&self, run: &mut Run, at: DateTime<Utc>) -> Result<()> {
        let Some(current) = self.rules.current(&run.actor).context("reading rules")? else {
            return Ok(());
        };
        let Some(parent) = current.parent_version else {
            return Ok(());
        };
        let actor = Actor {
            tenant_id: run.actor.tenant_id,
            user_id: run.admin,
        };
        self.rules
            .rollback(&actor, parent, at, &note(run.admin, "rules.rollback"))
            .context("rolling back demo rules")?;
        run.counts.rollbacks += 1;
        Ok(())
    }
}
