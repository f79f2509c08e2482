//! `/api/v1/ensemble/...` (seed 001): the tenant's AI-agent ensembles. Reads need any tenant
//! role; changes need `admin` or `trader`. Another tenant's ensemble is 404 on every `{id}`
//! route. The use cases, validation and audit rows are
//! [`alphapulse_ensemble::EnsembleService`]'s.
//!
//! This module holds the handlers and [`declare`] (the `route!` macro names each handler's
//! `__path_*` item, so they stay together); `dto` holds the request and response bodies.

mod dto;

use actix_web::{web, HttpResponse};
use alphapulse_console::PredictAndDecide;
use alphapulse_ensemble::{CreateEnsemble, OptimizeWeights, Predict, RegisterAgent, SignalIn};
use uuid::Uuid;

pub use dto::*;

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
/// symbol's latest close are stored (audited) for later scoring. The tenant's decision policy
/// then turns it into a decision (`decision`): auto-executed through the tenant's exchange
/// when autopost is on, the calibrated probability reaches the threshold, an accepted rule
/// covers it, the month's LLM spend is within the cap and the risk limits allow the order;
/// otherwise queued or rejected with its reasons. Every decision writes a
/// `decision_audit_log` row.
#[utoipa::path(post, path = "/api/v1/ensemble/{id}/predict", tag = "ensemble",
    params(("id" = Uuid, Path, description = ID),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
        pattern = "^[!-~]+$",
        description = "Retry key: an auto-executed order's client id derives from it, so a retried request never trades twice")),
    request_body = PredictRequest,
    responses(
        (status = 200, body = PredictionResponse),
        (status = 409, description = "Another trading action of the tenant is in progress", body = crate::error::ErrorBody)
    ))]
pub async fn predict_with_ensemble(
    caller: Caller,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<PredictRequest>,
) -> ApiResult<web::Json<PredictionResponse>> {
    let key = crate::extract::idempotency_key(&req)?.map(|k| k.as_str().to_owned());
    let (id, body) = (id.into_inner(), body.into_inner());
    let costs: Vec<Option<String>> = body.signals.iter().map(|s| s.cost_usd.clone()).collect();
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
    let input = PredictAndDecide {
        predict: input,
        costs,
        idempotency_key: key,
    };
    let desk = state.console.decisions.clone();
    let (stored, decision) = caller
        .run(move |p| desk.predict_and_decide(p, id, input))
        .await?;
    Ok(web::Json(PredictionResponse::of(stored, decision)))
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
