//! `/api/v1/ensemble/...` (seed 001): the tenant's AI-agent ensembles.
//!
//! Reads need any tenant role (`ReadTenantData`); changes (create, register an agent,
//! predict, optimise weights) need `admin` or `trader` (`Trade`), so a viewer gets 403. An
//! ensemble of another tenant is 404 on every `{id}` route: each query runs in the caller's
//! tenant scope (row-level security) and filters by the tenant as well. Every change writes
//! its audit row in the change's own transaction (see `alphapulse_ensemble::service`).
//! Validation errors are 422 with the offending fields (`signals[1].agent_id`); a signal of
//! an agent not registered in the ensemble is one of them.

use std::collections::BTreeMap;

use actix_web::{http::Method, web, HttpResponse};
use alphapulse_domain::{
    ports::{Contribution, Ensemble, StoredPrediction},
    PageRequest,
};
use alphapulse_ensemble::{
    CreateEnsemble, EnsembleError, OptimizeWeights, Predict, RegisterAgent, SignalIn,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenant_auth::{Permission, TenantContext};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult, ErrorBody, FieldError},
    ops::{actor, blocking_with, logged},
    request_id,
    routing::Routes,
    AppState,
};

/// Registers the ensemble routes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::GET, "/api/v1/ensemble", list_ensembles)
        .add(Method::POST, "/api/v1/ensemble/create", create_ensemble)
        .add(
            Method::GET,
            "/api/v1/ensemble/agent-rankings",
            agent_rankings,
        )
        .add(
            Method::POST,
            "/api/v1/ensemble/{id}/register-agent",
            register_agent,
        )
        .add(Method::POST, "/api/v1/ensemble/{id}/predict", predict)
        .add(
            Method::GET,
            "/api/v1/ensemble/{id}/performance",
            ensemble_performance,
        )
        .add(
            Method::GET,
            "/api/v1/ensemble/{id}/weights",
            ensemble_weights,
        )
        .add(
            Method::POST,
            "/api/v1/ensemble/{id}/optimize-weights",
            optimize_weights,
        );
}

fn failure(err: EnsembleError) -> ApiError {
    match err {
        EnsembleError::Repo(repo) => repo.into(),
        EnsembleError::Invalid(issues) => ApiError::Validation(
            issues
                .into_iter()
                .map(|i| FieldError {
                    field: i.field,
                    message: i.message,
                })
                .collect(),
        ),
        EnsembleError::Conflict(message) => ApiError::Conflict(message),
        other => ApiError::Internal(other.to_string()),
    }
}

/// Body of `POST /api/v1/ensemble/create`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateEnsembleRequest {
    /// 1 to 100 characters.
    pub name: String,
    /// `weighted_average`, `majority_vote` or `confidence_weighted`.
    pub method: String,
    /// Free-form settings (a JSON object, default `{}`).
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Answer of `POST /api/v1/ensemble/create` (201).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEnsemble {
    /// The new ensemble's id.
    pub ensemble_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its method.
    pub method: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// An ensemble as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnsembleResponse {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// `weighted_average`, `majority_vote` or `confidence_weighted`.
    pub method: String,
    /// Free-form settings.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Current weights version (0 before the first agent).
    pub weights_version: i32,
    /// Active agents.
    pub agent_count: u32,
    /// The user who created it.
    pub created_by: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Ensemble> for EnsembleResponse {
    fn from(e: Ensemble) -> Self {
        Self {
            id: e.id,
            name: e.name,
            method: e.method.to_string(),
            config: e.config,
            weights_version: e.weights_version,
            agent_count: e.agent_count,
            created_by: e.created_by.map(|u| u.as_uuid()),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// One page of ensembles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnsemblePage {
    /// The ensembles of this page, newest first.
    pub items: Vec<EnsembleResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of the ensemble list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST /api/v1/ensemble/{id}/register-agent`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterAgentRequest {
    /// 1 to 64 of `A-Z a-z 0-9 _ - . :`, unique in the ensemble.
    pub agent_id: String,
    /// Kind of agent (`technical`, `sentiment`, ...), same characters.
    pub agent_type: String,
    /// Weight relative to an average registered agent, `(0, 100]` (default 1).
    pub initial_weight: Option<f64>,
}

/// Answer of a registration (201).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredAgent {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// `registered`.
    pub status: &'static str,
    /// Its weight after renormalisation.
    pub weight: f64,
    /// The new weights version.
    pub weights_version: i32,
    /// Every agent's weight (sums to 1).
    pub weights: BTreeMap<String, f64>,
}

/// One signal of a prediction request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignalRequest {
    /// A registered agent of the ensemble.
    pub agent_id: String,
    /// Direction and strength, `-1..=1`.
    pub signal: f64,
    /// Confidence, `0..=1`.
    pub confidence: f64,
}

/// Body of `POST /api/v1/ensemble/{id}/predict`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PredictRequest {
    /// The instrument, e.g. `BTCUSDT`.
    pub symbol: String,
    /// 1 to 100 signals, one per agent.
    pub signals: Vec<SignalRequest>,
}

/// One agent's part in a prediction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContributionResponse {
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// Its signal.
    pub signal: f64,
    /// Its confidence.
    pub confidence: f64,
    /// Its weight among the agents that sent a signal (these sum to 1).
    pub weight: f64,
    /// Its term of the combination.
    pub contribution: f64,
}

impl From<Contribution> for ContributionResponse {
    fn from(c: Contribution) -> Self {
        Self {
            agent_id: c.agent_id,
            agent_type: c.agent_type,
            signal: c.signal,
            confidence: c.confidence,
            weight: c.weight,
            contribution: c.contribution,
        }
    }
}

/// A stored prediction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PredictionResponse {
    /// Identifier of the stored prediction.
    pub prediction_id: Uuid,
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The instrument.
    pub symbol: String,
    /// The combined signal, `-1..=1`.
    pub prediction: f64,
    /// Its confidence, `0..=1`.
    pub confidence: f64,
    /// Per-agent terms.
    pub contributions: Vec<ContributionResponse>,
    /// The weights version used.
    pub weights_version: i32,
    /// The symbol's latest stored close (decimal string), `null` without market data.
    pub price_at: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<StoredPrediction> for PredictionResponse {
    fn from(p: StoredPrediction) -> Self {
        Self {
            prediction_id: p.id,
            ensemble_id: p.ensemble_id,
            symbol: p.symbol.to_string(),
            prediction: p.prediction,
            confidence: p.confidence,
            contributions: p.contributions.into_iter().map(Into::into).collect(),
            weights_version: p.weights_version,
            price_at: p.price_at.map(|d| d.normalize().to_string()),
            created_at: p.created_at,
        }
    }
}

/// Answer of `GET /api/v1/ensemble/{id}/weights`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeightsResponse {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The weights version.
    pub version: i32,
    /// Weight per active agent (sums to 1; empty without agents).
    pub weights: BTreeMap<String, f64>,
}

/// Body of `POST /api/v1/ensemble/{id}/optimize-weights`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OptimizeWeightsRequest {
    /// `performance`, `inverse_variance` or `equal`.
    pub method: String,
    /// Recent predictions to learn from, 1..=1000 (default 100).
    pub lookback: Option<i64>,
}

/// Answer of an optimisation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OptimizedWeights {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The method used.
    pub method: String,
    /// Predictions looked back on.
    pub lookback: u32,
    /// The new weights version.
    pub version: i32,
    /// The new weights (sum to 1).
    pub weights: BTreeMap<String, f64>,
    /// The weights before.
    pub previous_weights: BTreeMap<String, f64>,
    /// Each agent's risk-adjusted score (mean / std of its directional returns).
    pub scores: BTreeMap<String, f64>,
    /// Each agent's evaluated signals in the lookback.
    pub evaluated: BTreeMap<String, u32>,
}

/// Query of the performance and rankings routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookbackQuery {
    /// Performance: newest predictions considered, 1..=5000 (default 500). Rankings: newest
    /// agent signals considered, 1..=20000 (default 5000).
    pub lookback: Option<i64>,
}

/// Creates an ensemble (201 `{ensemble_id, ...}`); audited.
#[utoipa::path(post, path = "/api/v1/ensemble/create", tag = "ensemble",
    request_body = CreateEnsembleRequest,
    responses(
        (status = 201, body = CreatedEnsemble),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "Viewer (needs admin or trader)", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ))]
pub async fn create_ensemble(
    ctx: TenantContext,
    state: web::Data<AppState>,
    body: web::Json<CreateEnsembleRequest>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "create ensemble", async {
        ctx.require(Permission::Trade)?;
        let body = body.into_inner();
        let input = CreateEnsemble {
            name: body.name,
            method: body.method,
            config: body.config,
        };
        let (service, actor, request) =
            (state.ensembles.clone(), actor(&ctx), request_id::current());
        let created = blocking_with(
            move || service.create(&actor, Some(&request), input),
            failure,
        )
        .await?;
        tracing::info!(
            "[Tenant: {}] [User: {}] ensemble created: {}",
            ctx.tenant_id,
            ctx.user_id,
            created.id
        );
        Ok(HttpResponse::Created().json(CreatedEnsemble {
            ensemble_id: created.id,
            name: created.name,
            method: created.method.to_string(),
            created_at: created.created_at,
        }))
    })
    .await
}

/// The tenant's ensembles, newest first, paginated.
#[utoipa::path(get, path = "/api/v1/ensemble", tag = "ensemble", params(ListQuery),
    responses(
        (status = 200, body = EnsemblePage),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
pub async fn list_ensembles(
    ctx: TenantContext,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<EnsemblePage>> {
    logged(&ctx, "list ensembles", async {
        ctx.require(Permission::ReadTenantData)?;
        let query = query.into_inner();
        let page = PageRequest::new(query.limit, query.cursor)?;
        let (service, actor) = (state.ensembles.clone(), actor(&ctx));
        let page = blocking_with(move || service.list(&actor, &page), failure).await?;
        Ok(web::Json(EnsemblePage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    })
    .await
}

/// Registers an agent in the ensemble (201); the weights are renormalised as a new version.
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/register-agent", tag = "ensemble",
    params(("id" = Uuid, Path, description = "Ensemble id")),
    request_body = RegisterAgentRequest,
    responses(
        (status = 201, body = RegisteredAgent),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown ensemble (or another tenant's)", body = ErrorBody),
        (status = 409, description = "Agent already registered", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ))]
pub async fn register_agent(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<RegisterAgentRequest>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "register ensemble agent", async {
        ctx.require(Permission::Trade)?;
        let (id, body) = (id.into_inner(), body.into_inner());
        let input = RegisterAgent {
            agent_id: body.agent_id,
            agent_type: body.agent_type,
            initial_weight: body.initial_weight,
        };
        let (service, actor, request) =
            (state.ensembles.clone(), actor(&ctx), request_id::current());
        let done = blocking_with(
            move || service.register_agent(&actor, Some(&request), id, input),
            failure,
        )
        .await?;
        Ok(HttpResponse::Created().json(RegisteredAgent {
            ensemble_id: id,
            weight: done.agent.weight,
            agent_id: done.agent.agent_id,
            agent_type: done.agent.agent_type,
            status: "registered",
            weights_version: done.weights_version,
            weights: done.weights,
        }))
    })
    .await
}

/// Combines the agents' signals by the ensemble's method; the prediction, its inputs and
/// the symbol's latest close are stored (audited) for later scoring.
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/predict", tag = "ensemble",
    params(("id" = Uuid, Path, description = "Ensemble id")),
    request_body = PredictRequest,
    responses(
        (status = 200, body = PredictionResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown ensemble (or another tenant's)", body = ErrorBody),
        (status = 422, description = "Signal out of range, unknown agent, bad symbol", body = ErrorBody)
    ))]
pub async fn predict(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<PredictRequest>,
) -> ApiResult<web::Json<PredictionResponse>> {
    logged(&ctx, "predict with ensemble", async {
        ctx.require(Permission::Trade)?;
        let (id, body) = (id.into_inner(), body.into_inner());
        let input = Predict {
            symbol: body.symbol,
            signals: body
                .signals
                .into_iter()
                .map(|s| SignalIn {
                    agent_id: s.agent_id,
                    signal: s.signal,
                    confidence: s.confidence,
                })
                .collect(),
        };
        let (service, actor, request) =
            (state.ensembles.clone(), actor(&ctx), request_id::current());
        let stored = blocking_with(
            move || service.predict(&actor, Some(&request), id, input),
            failure,
        )
        .await?;
        Ok(web::Json(stored.into()))
    })
    .await
}

/// Hit rate, accuracy and directional returns of the ensemble and each agent against the
/// realised returns of the stored daily closes (a prediction without a later close is
/// pending).
#[utoipa::path(get, path = "/api/v1/ensemble/{id}/performance", tag = "ensemble",
    params(("id" = Uuid, Path, description = "Ensemble id"), LookbackQuery),
    responses(
        (status = 200, description = "`{ensemble_id, method, lookback, ensemble: {signals, evaluated, pending, hits, hit_rate, accuracy, avg_return, total_return, volatility, risk_adjusted, avg_confidence}, agents: [{agent_id, agent_type, weight, ...the same statistics}]}`"),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown ensemble (or another tenant's)", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ))]
pub async fn ensemble_performance(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<LookbackQuery>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get ensemble performance", async {
        ctx.require(Permission::ReadTenantData)?;
        let (id, lookback) = (id.into_inner(), query.into_inner().lookback);
        let (service, actor) = (state.ensembles.clone(), actor(&ctx));
        let report =
            blocking_with(move || service.performance(&actor, id, lookback), failure).await?;
        let mut body = serde_json::to_value(&report)
            .map_err(|e| ApiError::Internal(format!("serialising performance: {e}")))?;
        body["ensemble_id"] = json!(id);
        Ok(HttpResponse::Ok().json(body))
    })
    .await
}

/// The ensemble's current weights (`{"weights": {agent_id: w}}`, summing to 1).
#[utoipa::path(get, path = "/api/v1/ensemble/{id}/weights", tag = "ensemble",
    params(("id" = Uuid, Path, description = "Ensemble id")),
    responses(
        (status = 200, body = WeightsResponse),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown ensemble (or another tenant's)", body = ErrorBody)
    ))]
pub async fn ensemble_weights(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<WeightsResponse>> {
    logged(&ctx, "get ensemble weights", async {
        ctx.require(Permission::ReadTenantData)?;
        let id = id.into_inner();
        let (service, actor) = (state.ensembles.clone(), actor(&ctx));
        let weights = blocking_with(move || service.weights(&actor, id), failure).await?;
        Ok(web::Json(WeightsResponse {
            ensemble_id: id,
            version: weights.version,
            weights: weights.weights,
        }))
    })
    .await
}

/// Computes new weights (`performance`: softmax of recent risk-adjusted performance with a
/// 0.05 floor; `inverse_variance`; `equal`) and stores them as the next version (audited).
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/optimize-weights", tag = "ensemble",
    params(("id" = Uuid, Path, description = "Ensemble id")),
    request_body = OptimizeWeightsRequest,
    responses(
        (status = 200, body = OptimizedWeights),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown ensemble (or another tenant's)", body = ErrorBody),
        (status = 409, description = "No agents, or the weights changed meanwhile", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ))]
pub async fn optimize_weights(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<OptimizeWeightsRequest>,
) -> ApiResult<web::Json<OptimizedWeights>> {
    logged(&ctx, "optimize ensemble weights", async {
        ctx.require(Permission::Trade)?;
        let (id, body) = (id.into_inner(), body.into_inner());
        let input = OptimizeWeights {
            method: body.method,
            lookback: body.lookback,
        };
        let (service, actor, request) =
            (state.ensembles.clone(), actor(&ctx), request_id::current());
        let out = blocking_with(
            move || service.optimize_weights(&actor, Some(&request), id, input),
            failure,
        )
        .await?;
        Ok(web::Json(OptimizedWeights {
            ensemble_id: id,
            method: out.method.to_string(),
            lookback: out.lookback,
            version: out.version,
            weights: out.weights,
            previous_weights: out.previous_weights,
            scores: out.scores,
            evaluated: out.evaluated,
        }))
    })
    .await
}

/// The tenant's registered agents ranked by hit rate, then average directional return, over
/// their recent signals.
#[utoipa::path(get, path = "/api/v1/ensemble/agent-rankings", tag = "ensemble",
    params(LookbackQuery),
    responses(
        (status = 200, description = "`{lookback, rankings: [{rank, agent_id, agent_type, ensembles, signals, evaluated, pending, hits, hit_rate, accuracy, avg_return, total_return, volatility, risk_adjusted, avg_confidence}]}`"),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
pub async fn agent_rankings(
    ctx: TenantContext,
    state: web::Data<AppState>,
    query: web::Query<LookbackQuery>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get agent rankings", async {
        ctx.require(Permission::ReadTenantData)?;
        let lookback = query.into_inner().lookback;
        let (service, actor) = (state.ensembles.clone(), actor(&ctx));
        let rankings =
            blocking_with(move || service.agent_rankings(&actor, lookback), failure).await?;
        let window =
            lookback.unwrap_or(i64::from(alphapulse_ensemble::service::RANKINGS_LOOKBACK.0));
        Ok(HttpResponse::Ok().json(json!({ "lookback": window, "rankings": rankings })))
    })
    .await
}
