//! Registering an agent in an ensemble.

use alphapulse_domain::ports::{Actor, AgentRegistration, Registered};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::audit_entry,
    limits::{MAX_AGENTS, MAX_INITIAL_WEIGHT},
    validation::{agent_name_issue, Issues},
    EnsembleError, EnsembleService, RegisterAgent,
};

impl EnsembleService {
    /// Registers an agent (audited); the weights are renormalised as a new version.
    ///
    /// # Errors
    /// Invalid input, an unknown ensemble (`NotFound`), an agent registered already
    /// (`Conflict` from the repository), storage failures.
    pub fn register_agent(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        ensemble_id: Uuid,
        input: RegisterAgent,
    ) -> Result<Registered, EnsembleError> {
        let mut issues = Issues::default();
        if let Some(m) = agent_name_issue(&input.agent_id) {
            issues.fail("agent_id", m);
        }
        if let Some(m) = agent_name_issue(&input.agent_type) {
            issues.fail("agent_type", m);
        }
        let weight = input.initial_weight.unwrap_or(1.0);
        if !(weight.is_finite() && weight > 0.0 && weight <= MAX_INITIAL_WEIGHT) {
            issues.fail(
                "initial_weight",
                format!("must be greater than 0 and at most {MAX_INITIAL_WEIGHT}"),
            );
        }
        issues.finish()?;
        // Bounded fan-out: every prediction and report walks the agents.
        let (_, agents) = self.repo.agents(actor, ensemble_id)?;
        if agents.len() >= MAX_AGENTS {
            return Err(EnsembleError::Conflict(format!(
                "the ensemble already has its maximum of {MAX_AGENTS} agents"
            )));
        }
        let registration = AgentRegistration {
            agent_id: input.agent_id,
            agent_type: input.agent_type,
        };
        let details = json!({
            "agent_id": registration.agent_id,
            "agent_type": registration.agent_type,
            "initial_weight": weight,
        });
        let audit = audit_entry(
            actor,
            request_id,
            "ensemble.register_agent",
            ensemble_id,
            details,
        );
        Ok(self
            .repo
            .register_agent(actor, ensemble_id, &registration, weight, &audit)?)
    }
}
