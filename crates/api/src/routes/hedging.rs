//! Hedging (seed 001): the analysis (any role), and the two trading actions, execute and
//! close (`admin`/`trader` only), with `Idempotency-Key` support: a retry with the same key
//! and body answers the first result and places nothing twice; the same key with another
//! body is a 409. Each action's answer and its `audit_log` row are stored in one transaction;
//! each order's fill is atomic on its own, and a partial failure is reported order by order.

use actix_web::{
    http::{Method, StatusCode},
    web, HttpRequest, HttpResponse,
};
use alphapulse_domain::{
    ports::{Actor, IdempotencyBegin},
    AuditOutcome, ExchangeError, NewAuditEntry, TenantId, UserId,
};
use alphapulse_hedging::{analyse, execution, HedgeAnalysis};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tenant_auth::{Permission, TenantContext};

use crate::{
    error::{ApiError, ApiResult},
    ops::{actor, blocking, blocking_with, logged},
    request_id,
    routing::Routes,
    AppState,
};

/// The target when neither the request nor the tenant's metadata sets one: a full hedge.
pub const DEFAULT_TARGET: f64 = 1.0;

/// Registers the routes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::GET, "/api/v1/hedging/analysis", hedge_analysis)
        .add(Method::POST, "/api/v1/hedging/execute", execute_hedge)
        .add(Method::POST, "/api/v1/hedging/close", close_hedges);
}

fn exchange_failure(err: ExchangeError) -> ApiError {
    tracing::warn!(cause = %err, "exchange call failed");
    ApiError::Unavailable("Failed to fetch positions for hedging".to_owned())
}

/// The tenant's target: `metadata.hedging.target_hedge_ratio`, else [`DEFAULT_TARGET`].
async fn tenant_target(state: &AppState, tenant: TenantId) -> ApiResult<f64> {
    let tenants = state.tenants.clone();
    let t = blocking(move || tenants.get(tenant)).await?;
    Ok(t.metadata
        .pointer("/hedging/target_hedge_ratio")
        .and_then(Value::as_f64)
        .filter(|r| (0.0..=1.0).contains(r))
        .unwrap_or(DEFAULT_TARGET))
}

async fn analysis_for(
    state: &AppState,
    ctx: &TenantContext,
    target: f64,
) -> ApiResult<HedgeAnalysis> {
    let (service, who) = (state.positions.clone(), actor(ctx));
    blocking_with(
        move || {
            let spot = service.spot(&who)?;
            let futures = service.futures(&who)?;
            Ok(analyse(&spot, &futures, target))
        },
        exchange_failure,
    )
    .await
}

/// Plans (`dry_run`) or places `orders`; returns the overall status and each order's outcome.
async fn place_or_plan(
    state: &AppState,
    ctx: &TenantContext,
    orders: Vec<alphapulse_domain::OrderRequest>,
    dry_run: bool,
) -> ApiResult<(&'static str, Vec<execution::OrderOutcome>)> {
    if dry_run {
        return Ok(("dry_run", execution::dry_run(&orders)));
    }
    let (exchange, who) = (state.exchange.clone(), actor(ctx));
    let outcomes = blocking_with(
        move || Ok::<_, std::convert::Infallible>(execution::place_all(&*exchange, &who, &orders)),
        |never| match never {},
    )
    .await?;
    Ok((execution::overall_status(&outcomes), outcomes))
}

/// Per-asset exposure, current and target hedge ratio, and recommended orders.
#[utoipa::path(get, path = "/api/v1/hedging/analysis", tag = "hedging",
    responses(
        (status = 200, description = "`{spot_value, futures_notional, net_exposure, hedge_ratio, target_hedge_ratio, assets, recommendations: [{symbol, action, quantity, reason}]}`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)
    ))]
pub async fn hedge_analysis(
    ctx: TenantContext,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get hedge analysis", async {
        ctx.require(Permission::ReadTenantData)?;
        let target = tenant_target(&state, TenantId(ctx.tenant_id)).await?;
        Ok(HttpResponse::Ok().json(analysis_for(&state, &ctx, target).await?))
    })
    .await
}

/// Body of `POST /api/v1/hedging/execute`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// Target ratio in `0..=1` (default: the tenant's, else 1.0).
    pub target_hedge_ratio: Option<f64>,
    /// Plan the orders without placing them.
    #[serde(default)]
    pub dry_run: bool,
}

/// Body of `POST /api/v1/hedging/close`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Plan the orders without placing them.
    #[serde(default)]
    pub dry_run: bool,
}

const KEY_HEADER: &str = "idempotency-key";

/// An optional JSON body: empty means the defaults; malformed JSON is a 400 and wrong fields
/// a 422 (an `Option<Json<_>>` extractor would silently treat both as absent).
fn optional_body<T: serde::de::DeserializeOwned + Default>(bytes: &web::Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::invalid("body", e.to_string())
        } else {
            ApiError::BadRequest(format!("Malformed JSON: {e}"))
        }
    })
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = req.headers().get(KEY_HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Runs a trading action under the idempotency protocol and audits it.
async fn trading_action<F, Fut>(
    state: &AppState,
    ctx: &TenantContext,
    key: Option<String>,
    scope: &'static str,
    body: &Value,
    act: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<(Value, bool)>>,
{
    let who: Actor = actor(ctx);
    let hash: String = Sha256::digest(body.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(key) = &key {
        let (repo, k, h) = (state.idempotency.clone(), key.clone(), hash.clone());
        match blocking(move || repo.begin(&who, scope, &k, &h)).await? {
            IdempotencyBegin::Started => {}
            IdempotencyBegin::Completed { status, body } => {
                tracing::info!(scope, "idempotent replay");
                return Ok(HttpResponse::build(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                )
                .insert_header(("idempotent-replayed", "true"))
                .json(body));
            }
            IdempotencyBegin::InProgress => {
                return Err(ApiError::Conflict(
                    "A request with this Idempotency-Key is still in progress".into(),
                ))
            }
            IdempotencyBegin::Mismatch => {
                return Err(ApiError::Conflict(
                    "Idempotency-Key was already used with a different request body".into(),
                ))
            }
        }
    }
    let result = act().await;
    let (response, all_ok) = match result {
        Ok(r) => r,
        Err(err) => {
            // Nothing was placed (the failure came before any order): free the key.
            if let Some(key) = key {
                let repo = state.idempotency.clone();
                let _ = blocking(move || repo.release(&who, scope, &key)).await;
            }
            return Err(err);
        }
    };
    let entry = NewAuditEntry {
        tenant_id: TenantId(ctx.tenant_id),
        user_id: Some(UserId(ctx.user_id)),
        action: scope.to_owned(),
        target: format!("tenant:{}", ctx.tenant_id),
        outcome: if all_ok {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        },
        request_id: Some(request_id::current()),
        details: response.clone(),
    };
    match key {
        Some(key) => {
            let (repo, stored) = (state.idempotency.clone(), response.clone());
            blocking(move || repo.complete(&who, scope, &key, 200, &stored, &entry)).await?;
        }
        None => {
            let audit = state.audit.clone();
            blocking(move || audit.append(entry).map(|_| ())).await?;
        }
    }
    Ok(HttpResponse::Ok().json(response))
}

/// Places the orders that bring every hedge to the target (or plans them with `dry_run`).
#[utoipa::path(post, path = "/api/v1/hedging/execute", tag = "hedging",
    request_body = ExecuteRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key: same key + body = same answer, nothing placed twice")),
    responses(
        (status = 200, description = "`{status: executed|partial|failed|dry_run|nothing_to_do, target_hedge_ratio, orders: [...]}`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, description = "viewer", body = crate::error::ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)
    ))]
pub async fn execute_hedge(
    ctx: TenantContext,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "execute hedge", async {
        ctx.require(Permission::Trade)?;
        let request: ExecuteRequest = optional_body(&body)?;
        if let Some(t) = request.target_hedge_ratio {
            if !(0.0..=1.0).contains(&t) {
                return Err(ApiError::invalid(
                    "target_hedge_ratio",
                    "must be between 0 and 1",
                ));
            }
        }
        let key = idempotency_key(&req)?;
        let canonical =
            json!({"target_hedge_ratio": request.target_hedge_ratio, "dry_run": request.dry_run});
        let prefix = execution::order_id_prefix(key.as_deref(), "hedging.execute");
        trading_action(&state, &ctx, key, "hedging.execute", &canonical, || async {
            let target = match request.target_hedge_ratio {
                Some(t) => t,
                None => tenant_target(&state, TenantId(ctx.tenant_id)).await?,
            };
            let analysis = analysis_for(&state, &ctx, target).await?;
            let orders = execution::plan(&analysis.recommendations, &prefix);
            let (status, outcomes) = place_or_plan(&state, &ctx, orders, request.dry_run).await?;
            let all_ok = !matches!(status, "failed" | "partial");
            Ok((
                json!({"status": status, "target_hedge_ratio": target, "orders": outcomes}),
                all_ok,
            ))
        })
        .await
    })
    .await
}

/// Closes every short futures hedge with reduce-only orders.
#[utoipa::path(post, path = "/api/v1/hedging/close", tag = "hedging",
    request_body = CloseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses(
        (status = 200, description = "`{status, closed: [...]}`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)
    ))]
pub async fn close_hedges(
    ctx: TenantContext,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "close hedges", async {
        ctx.require(Permission::Trade)?;
        let request: CloseRequest = optional_body(&body)?;
        let key = idempotency_key(&req)?;
        let canonical = json!({"dry_run": request.dry_run});
        let prefix = execution::order_id_prefix(key.as_deref(), "hedging.close");
        trading_action(&state, &ctx, key, "hedging.close", &canonical, || async {
            let (service, who) = (state.positions.clone(), actor(&ctx));
            let futures = blocking_with(move || service.futures(&who), exchange_failure).await?;
            let orders = execution::plan_close(&futures, &prefix);
            let (status, outcomes) = place_or_plan(&state, &ctx, orders, request.dry_run).await?;
            let all_ok = !matches!(status, "failed" | "partial");
            Ok((json!({"status": status, "closed": outcomes}), all_ok))
        })
        .await
    })
    .await
}
