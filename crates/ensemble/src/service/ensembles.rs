//! Creating and listing ensembles.

use alphapulse_domain::{
    ports::{Actor, Ensemble, EnsembleMethod, NewEnsemble},
    Page, PageRequest, TextEnum,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::audit_entry,
    limits::{MAX_CONFIG_BYTES, MAX_NAME_LEN},
    validation::{invalid, Issues},
    CreateEnsemble, EnsembleError, EnsembleService,
};

impl EnsembleService {
    /// Creates an ensemble (audited).
    ///
    /// # Errors
    /// [`EnsembleError::Invalid`] for a bad name, method or config; storage failures.
    pub fn create(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        input: CreateEnsemble,
    ) -> Result<Ensemble, EnsembleError> {
        let mut issues = Issues::default();
        let name = match alphapulse_domain::text::clean("name", &input.name, MAX_NAME_LEN) {
            Ok(name) => name,
            Err(e) => {
                issues.fail("name", e.message);
                String::new()
            }
        };
        let method = EnsembleMethod::parse_field(&input.method);
        if let Err(e) = &method {
            issues.fail("method", e.message.clone());
        }
        let config = input.config.unwrap_or_else(|| json!({}));
        if let Err(e) = alphapulse_domain::text::json_object("config", &config) {
            issues.fail("config", e.message);
        } else if config.to_string().len() > MAX_CONFIG_BYTES {
            issues.fail(
                "config",
                format!("must be at most {MAX_CONFIG_BYTES} bytes"),
            );
        }
        issues.finish()?;
        let method = method.map_err(|e| invalid("method", e.message))?;
        let new = NewEnsemble {
            id: Uuid::new_v4(),
            name,
            method,
            config,
        };
        let details = json!({ "name": new.name, "method": method });
        let audit = audit_entry(actor, request_id, "ensemble.create", new.id, details);
        Ok(self.repo.create(actor, &new, &audit)?)
    }

    /// A page of the tenant's ensembles, newest first.
    ///
    /// # Errors
    /// A bad cursor (invalid), storage failures.
    pub fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Ensemble>, EnsembleError> {
        Ok(self.repo.list(actor, page)?)
    }
}
