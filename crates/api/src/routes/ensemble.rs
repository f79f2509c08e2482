//! `/api/v1/ensemble/...` (seed 001): the tenant's AI-agent ensembles. Reads need any tenant
//! role; changes need `admin` or `trader`. Another tenant's ensemble is 404 on every `{id}`
//! route. The use cases, validation and audit rows are
//! [`alphapulse_ensemble::EnsembleService`]'s.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use alphapulse_domain::ports::{Contribution, Ensemble, EnsembleMethod, StoredPrediction};
use alphapulse_ensemble::{
    service::{AgentRanking, EnsemblePerformance},
    CreateEnsemble, OptimizeMethod, OptimizeWeights, Predict, RegisterAgent, SignalIn,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    caller::Caller,
    error::ApiResult,
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the ensemble routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, list_ensembles))
        .add(route!(Access::TRADE, create_ensemble))
        .add(route!(Access::READ, get_agent_rankings))
        .add(route!(Access::TRADE, register_ensemble_agent))
        .add(route!(Access::TRADE, predict_with_ensemble))
        .add(route!(Access::READ, get_ensemble_performance))
        .add(route!(Access::READ, get_ensemble_weights))
        .add(route!(Access::TRADE, optimize_ensemble_weights));
}

const ID: &str = "Ensemble id";

/// Body of `POST /api/v1/ensemble/create`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateEnsembleRequest {
    /// 1 to 100 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\x00\t\n\x0c\r ][^\x00]*$"
    )]
    pub name: String,
    /// How the agents' signals are combined.
    #[schema(value_type = EnsembleMethod)]
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
    pub method: EnsembleMethod,
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
    /// How signals are combined.
    pub method: EnsembleMethod,
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
            method: e.method,
            config: e.config,
            weights_version: e.weights_version,
            agent_count: e.agent_count,
            created_by: e.created_by.map(|u| u.as_uuid()),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// Body of `POST /api/v1/ensemble/{id}/register-agent`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterAgentRequest {
    /// 1 to 64 of `A-Z a-z 0-9 _ - . :`, unique in the ensemble.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub agent_id: String,
    /// Kind of agent (`technical`, `sentiment`, ...), same characters.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub agent_type: String,
    /// Weight relative to an average registered agent, `(0, 100]` (default 1).
    #[schema(exclusive_minimum = 0.0, maximum = 100.0)]
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
    #[schema(example = "registered")]
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
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub agent_id: String,
    /// Direction and strength.
    #[schema(minimum = -1.0, maximum = 1.0)]
    pub signal: f64,
    /// Confidence.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: f64,
}

/// Body of `POST /api/v1/ensemble/{id}/predict`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PredictRequest {
    /// The instrument, e.g. `BTCUSDT`.
    #[schema(pattern = "^[A-Za-z0-9]{2,20}$")]
    pub symbol: String,
    /// 1 to 100 signals, one per agent.
    #[schema(min_items = 1, max_items = 100)]
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
    /// How to compute the new weights.
    #[schema(value_type = OptimizeMethod)]
    pub method: String,
    /// Recent predictions to learn from, 1..=1000 (default 100).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub lookback: Option<i64>,
}

/// Answer of an optimisation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OptimizedWeights {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The method used.
    pub method: OptimizeMethod,
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

/// Query of the performance route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceQuery {
    /// Newest predictions considered, 1..=5000 (default 500).
    #[param(minimum = 1, maximum = 5000)]
    pub lookback: Option<i64>,
}

/// Query of the rankings route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingsQuery {
    /// Newest agent signals considered, 1..=20000 (default 5000).
    #[param(minimum = 1, maximum = 20000)]
    pub lookback: Option<i64>,
}

/// An ensemble's performance report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerformanceResponse {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The report.
    #[serde(flatten)]
    pub report: EnsemblePerformance,
}

/// The tenant's agents ranked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RankingsResponse {
    /// Newest signals considered.
    pub lookback: i64,
    /// Best first.
    pub rankings: Vec<AgentRanking>,
}

/// Creates an ensemble (201 `{ensemble_id, ...}`); audited.
#[utoipa::path(post, path = "/api/v1/ensemble/create", tag = "ensemble",
    request_body = CreateEnsembleRequest,
    responses((status = 201, body = CreatedEnsemble)))]
pub async fn create_ensemble(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<CreateEnsembleRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let input = CreateEnsemble {
        name: body.name,
        method: body.method,
        config: body.config,
    };
    let service = state.ensembles.clone();
    let created = caller
        .run(move |p| service.create(&p.actor(), p.request_id.as_deref(), input))
        .await?;
    Ok(HttpResponse::Created().json(CreatedEnsemble {
        ensemble_id: created.id,
        name: created.name,
        method: created.method,
        created_at: created.created_at,
    }))
}

/// The tenant's ensembles, newest first, paginated.
#[utoipa::path(get, path = "/api/v1/ensemble", tag = "ensemble", params(PageQuery),
    responses((status = 200, body = PageOf<EnsembleResponse>)))]
pub async fn list_ensembles(
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<EnsembleResponse>>> {
    let (service, page) = (state.ensembles.clone(), page.into_inner());
    let page = caller
        .run(move |p| {
            let page = page.request().map_err(alphapulse_domain::RepoError::from)?;
            service.list(&p.actor(), &page)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// Registers an agent in the ensemble (201); the weights are renormalised as a new version.
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/register-agent", tag = "ensemble",
    params(("id" = Uuid, Path, description = ID)),
    request_body = RegisterAgentRequest,
    responses(
        (status = 201, body = RegisteredAgent),
        (status = 409, description = "Agent already registered", body = crate::error::ErrorBody)
    ))]
pub async fn register_ensemble_agent(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<RegisterAgentRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let input = RegisterAgent {
        agent_id: body.agent_id,
        agent_type: body.agent_type,
        initial_weight: body.initial_weight,
    };
    let service = state.ensembles.clone();
    let done = caller
        .run(move |p| service.register_agent(&p.actor(), p.request_id.as_deref(), id, input))
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
}

/// Combines the agents' signals by the ensemble's method; the prediction, its inputs and the
/// symbol's latest close are stored (audited) for later scoring.
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/predict", tag = "ensemble",
    params(("id" = Uuid, Path, description = ID)),
    request_body = PredictRequest,
    responses((status = 200, body = PredictionResponse)))]
pub async fn predict_with_ensemble(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<PredictRequest>,
) -> ApiResult<web::Json<PredictionResponse>> {
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
    let service = state.ensembles.clone();
    let stored = caller
        .run(move |p| service.predict(&p.actor(), p.request_id.as_deref(), id, input))
        .await?;
    Ok(web::Json(stored.into()))
}

/// Hit rate, accuracy and directional returns of the ensemble and each agent against the
/// realised returns of the stored daily closes (a prediction without a later close is
/// pending).
#[utoipa::path(get, path = "/api/v1/ensemble/{id}/performance", tag = "ensemble",
    params(("id" = Uuid, Path, description = ID), PerformanceQuery),
    responses((status = 200, body = PerformanceResponse)))]
pub async fn get_ensemble_performance(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<PerformanceQuery>,
) -> ApiResult<web::Json<PerformanceResponse>> {
    let (id, lookback) = (id.into_inner(), query.into_inner().lookback);
    let service = state.ensembles.clone();
    let report = caller
        .run(move |p| service.performance(&p.actor(), id, lookback))
        .await?;
    Ok(web::Json(PerformanceResponse {
        ensemble_id: id,
        report,
    }))
}

/// The ensemble's current weights (`{"weights": {agent_id: w}}`, summing to 1).
#[utoipa::path(get, path = "/api/v1/ensemble/{id}/weights", tag = "ensemble",
    params(("id" = Uuid, Path, description = ID)),
    responses((status = 200, body = WeightsResponse)))]
pub async fn get_ensemble_weights(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<WeightsResponse>> {
    let (id, service) = (id.into_inner(), state.ensembles.clone());
    let weights = caller.run(move |p| service.weights(&p.actor(), id)).await?;
    Ok(web::Json(WeightsResponse {
        ensemble_id: id,
        version: weights.version,
        weights: weights.weights,
    }))
}

/// Computes new weights (`performance`: softmax of recent risk-adjusted performance with a
/// 0.05 floor; `inverse_variance`; `equal`) and stores them as the next version (audited).
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/optimize-weights", tag = "ensemble",
    params(("id" = Uuid, Path, description = ID)),
    request_body = OptimizeWeightsRequest,
    responses(
        (status = 200, body = OptimizedWeights),
        (status = 409, description = "No agents, or the weights changed meanwhile", body = crate::error::ErrorBody)
    ))]
pub async fn optimize_ensemble_weights(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<OptimizeWeightsRequest>,
) -> ApiResult<web::Json<OptimizedWeights>> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let input = OptimizeWeights {
        method: body.method,
        lookback: body.lookback,
    };
    let service = state.ensembles.clone();
    let out = caller
        .run(move |p| service.optimize_weights(&p.actor(), p.request_id.as_deref(), id, input))
        .await?;
    Ok(web::Json(OptimizedWeights {
        ensemble_id: id,
        method: out.method,
        lookback: out.lookback,
        version: out.version,
        weights: out.weights,
        previous_weights: out.previous_weights,
        scores: out.scores,
        evaluated: out.evaluated,
    }))
}

/// The tenant's registered agents ranked by hit rate, then average directional return, over
/// their recent signals.
#[utoipa::path(get, path = "/api/v1/ensemble/agent-rankings", tag = "ensemble",
    params(RankingsQuery),
    responses((status = 200, body = RankingsResponse)))]
pub async fn get_agent_rankings(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<RankingsQuery>,
) -> ApiResult<web::Json<RankingsResponse>> {
    let lookback = query.into_inner().lookback;
    let service = state.ensembles.clone();
    let rankings = caller
        .run(move |p| service.agent_rankings(&p.actor(), lookback))
        .await?;
    let window = lookback.unwrap_or(i64::from(alphapulse_ensemble::service::RANKINGS_LOOKBACK.0));
    Ok(web::Json(RankingsResponse {
        lookback: window,
        rankings,
    }))
}
