//! `ensembles`, `ensemble_agents`, `ensemble_predictions`, `ensemble_weight_history`, and the
//! `agent_signals` a prediction consumes. Every query filters by the actor's tenant on top of
//! row-level security; every change appends its audit row in the same transaction.
//!
//! Weights: the stored weights of an ensemble's active agents sum to 1. A registration locks
//! the ensemble row (by bumping its `weights_version`), scales the current weights so they
//! average 1, gives the new agent its `initial_weight`, renormalises, and records the result
//! as the new version in `ensemble_weight_history`. [`set_weights`] does the same for
//! optimised weights, and refuses (conflict) when the version or the agents moved on since
//! the weights were computed.
//!
//! Modules by table group: `ensemble` (the ensembles themselves and their weights version),
//! `agents` (agents and weights), `predictions` (predictions and agent signals), `rows` (the
//! diesel rows and their conversions). This module holds [`PgEnsembleRepo`].

mod agents;
mod ensemble;
mod predictions;
mod rows;

use alphapulse_domain::{
    ports::{
        Actor, AgentRegistration, Ensemble, EnsembleAgent, EnsembleRepo, NewEnsemble,
        NewPrediction, Registered, StoredPrediction, StoredSignal, TenantAgent, WeightUpdate,
    },
    NewAuditEntry, Page, PageRequest, RepoError,
};
use uuid::Uuid;

pub use agents::{agents, register_agent, set_weights, tenant_agents};
pub use ensemble::{create, get, list};
pub use predictions::{predictions, recent_signals, record_prediction};

use crate::Db;

/// [`EnsembleRepo`] over PostgreSQL: every call in one [`crate::TenantScope`] transaction.
#[derive(Debug, Clone)]
pub struct PgEnsembleRepo {
    db: Db,
}

impl PgEnsembleRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl EnsembleRepo for PgEnsembleRepo {
    fn create(
        &self,
        actor: &Actor,
        new: &NewEnsemble,
        entry: &NewAuditEntry,
    ) -> Result<Ensemble, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| create(c, actor, new, entry))?)
    }

    fn get(&self, actor: &Actor, id: Uuid) -> Result<Ensemble, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| get(c, actor, id))?)
    }

    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Ensemble>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| list(c, actor, page))?)
    }

    fn agents(&self, actor: &Actor, id: Uuid) -> Result<(Ensemble, Vec<EnsembleAgent>), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| agents(c, actor, id))?)
    }

    fn register_agent(
        &self,
        actor: &Actor,
        id: Uuid,
        agent: &AgentRegistration,
        initial_weight: f64,
        entry: &NewAuditEntry,
    ) -> Result<Registered, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| register_agent(c, actor, id, agent, initial_weight, entry))?)
    }

    fn record_prediction(
        &self,
        actor: &Actor,
        prediction: &NewPrediction,
        entry: &NewAuditEntry,
    ) -> Result<StoredPrediction, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| record_prediction(c, actor, prediction, entry))?)
    }

    fn predictions(
        &self,
        actor: &Actor,
        id: Uuid,
        limit: u32,
    ) -> Result<Vec<StoredPrediction>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| predictions(c, actor, id, limit))?)
    }

    fn set_weights(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &WeightUpdate,
        entry: &NewAuditEntry,
    ) -> Result<i32, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| set_weights(c, actor, id, update, entry))?)
    }

    fn tenant_agents(&self, actor: &Actor) -> Result<Vec<TenantAgent>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| tenant_agents(c, actor))?)
    }

    fn recent_signals(&self, actor: &Actor, limit: u32) -> Result<Vec<StoredSignal>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| recent_signals(c, actor, limit))?)
    }
}
