//! `/api/v1/rules/...`: candidates mined from the decision history, dry runs, reviews,
//! versions and rollbacks.

use actix_web::web;
use alphapulse_console::{DryRun, MineRequest as Mine};
use alphapulse_domain::{ports::CandidateStatus, TenantId, TextEnum};
use tenant_auth::Permission;
use uuid::Uuid;

use super::dto::{
    CandidateFilter, CandidateResponse, DryRunRequest, MineRequest, MinedResponse, ReviewResponse,
    RollbackRequest, RulesVersionResponse, TenantParam,
};
use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    extract::optional_json,
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the rules routes.
pub fn declare(routes: &mut Routes) {
    let manage = Access::Requires(Permission::ManageSettings);
    routes
        .add(route!(Access::READ, list_rule_candidates))
        .add(route!(manage, mine_rule_candidates))
        .add(route!(Access::READ, dry_run_rule_candidate))
        .add(route!(manage, accept_rule_candidate))
        .add(route!(manage, reject_rule_candidate))
        .add(route!(Access::READ, list_rules_versions))
        .add(route!(manage, rollback_rules));
}

fn tenant(param: web::Query<TenantParam>) -> Option<TenantId> {
    param.into_inner().tenant_id.map(TenantId)
}

/// The tenant's rule candidates (pending unless `status` says otherwise), newest first.
#[utoipa::path(get, path = "/api/v1/rules/candidates", tag = "rules",
    params(TenantParam, CandidateFilter, PageQuery),
    responses(
        (status = 200, body = PageOf<CandidateResponse>),
        (status = 404, description = "A `tenant_id` the caller may not see", body = crate::error::ErrorBody)
    ))]
pub async fn list_rule_candidates(
    caller: Caller,
    state: web::Data<AppState>,
    param: web::Query<TenantParam>,
    filter: web::Query<CandidateFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<CandidateResponse>>> {
    let (service, tenant) = (state.console.rules.clone(), tenant(param));
    let (status, page) = (filter.into_inner().status, page.into_inner());
    let page = caller
        .run(move |p| {
            let status = match status.as_deref() {
                Some(s) => CandidateStatus::parse_field(s)?,
                None => CandidateStatus::Pending,
            };
            let page = page.request()?;
            service
                .candidates(p, tenant, Some(status), &page)
                .map_err(ApiError::from)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// Mines the tenant's decision history for candidates now (the job does it periodically),
/// with the thresholds sent (the server's defaults for the others).
#[utoipa::path(post, path = "/api/v1/rules/mine", tag = "rules", params(TenantParam),
    request_body(content = Option<MineRequest>, description = "Optional; empty means the defaults"),
    responses(
        (status = 200, body = MinedResponse),
        (status = 404, description = "A `tenant_id` the caller may not see", body = crate::error::ErrorBody)
    ))]
pub async fn mine_rule_candidates(
    caller: Caller,
    state: web::Data<AppState>,
    param: web::Query<TenantParam>,
    body: web::Bytes,
) -> ApiResult<web::Json<MinedResponse>> {
    let body: MineRequest = optional_json(&body)?;
    let request = Mine {
        min_count: body.min_count,
        min_precision: body.min_precision,
        max_std_dev: body.max_std_dev,
        lookback_days: body.lookback_days,
    };
    let (service, tenant) = (state.console.rules.clone(), tenant(param));
    let mined = caller
        .run(move |p| service.mine(p, tenant, request))
        .await?;
    Ok(web::Json(MinedResponse {
        candidates: mined.into_iter().map(Into::into).collect(),
    }))
}

/// What accepting a candidate would have changed over the recent decisions: automation rate
/// before and after, reason deltas, affected decisions. Writes nothing.
#[utoipa::path(post, path = "/api/v1/rules/dryrun", tag = "rules", params(TenantParam),
    request_body = DryRunRequest,
    responses(
        (status = 200, body = DryRun),
        (status = 404, description = "Unknown candidate, or another tenant's", body = crate::error::ErrorBody)
    ))]
pub async fn dry_run_rule_candidate(
    caller: Caller,
    state: web::Data<AppState>,
    param: web::Query<TenantParam>,
    body: web::Json<DryRunRequest>,
) -> ApiResult<web::Json<DryRun>> {
    let (service, tenant, id) = (
        state.console.rules.clone(),
        tenant(param),
        body.into_inner().candidate_id,
    );
    let run = caller.run(move |p| service.dry_run(p, tenant, id)).await?;
    Ok(web::Json(run))
}

/// Accepts a pending candidate: a new rules version (the current rules plus its rule),
/// reviewed by the caller; audited.
#[utoipa::path(post, path = "/api/v1/rules/candidates/{id}/accept", tag = "rules",
    params(("id" = Uuid, Path, description = "Candidate id"), TenantParam),
    responses(
        (status = 200, body = ReviewResponse),
        (status = 409, description = "Reviewed already", body = crate::error::ErrorBody)
    ))]
pub async fn accept_rule_candidate(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    param: web::Query<TenantParam>,
) -> ApiResult<web::Json<ReviewResponse>> {
    review(caller, state, id.into_inner(), tenant(param), true).await
}

/// Rejects a pending candidate, reviewed by the caller; audited.
#[utoipa::path(post, path = "/api/v1/rules/candidates/{id}/reject", tag = "rules",
    params(("id" = Uuid, Path, description = "Candidate id"), TenantParam),
    responses(
        (status = 200, body = ReviewResponse),
        (status = 409, description = "Reviewed already", body = crate::error::ErrorBody)
    ))]
pub async fn reject_rule_candidate(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    param: web::Query<TenantParam>,
) -> ApiResult<web::Json<ReviewResponse>> {
    review(caller, state, id.into_inner(), tenant(param), false).await
}

async fn review(
    caller: Caller,
    state: web::Data<AppState>,
    id: Uuid,
    tenant: Option<TenantId>,
    accept: bool,
) -> ApiResult<web::Json<ReviewResponse>> {
    let service = state.console.rules.clone();
    let (candidate, version) = caller
        .run(move |p| service.review(p, tenant, id, accept))
        .await?;
    Ok(web::Json(ReviewResponse {
        candidate: candidate.into(),
        version: version.map(Into::into),
    }))
}

/// The tenant's rules versions, newest first (each with its rules, whole).
#[utoipa::path(get, path = "/api/v1/rules/versions", tag = "rules",
    params(TenantParam, PageQuery),
    responses(
        (status = 200, body = PageOf<RulesVersionResponse>),
        (status = 404, description = "A `tenant_id` the caller may not see", body = crate::error::ErrorBody)
    ))]
pub async fn list_rules_versions(
    caller: Caller,
    state: web::Data<AppState>,
    param: web::Query<TenantParam>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<RulesVersionResponse>>> {
    let (service, tenant, page) = (
        state.console.rules.clone(),
        tenant(param),
        page.into_inner(),
    );
    let page = caller
        .run(move |p| {
            let page = page.request()?;
            service.versions(p, tenant, &page).map_err(ApiError::from)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// Writes a new rules version equal to `to_version` (history kept); audited.
#[utoipa::path(post, path = "/api/v1/rules/rollback", tag = "rules", params(TenantParam),
    request_body = RollbackRequest,
    responses(
        (status = 201, body = RulesVersionResponse),
        (status = 404, description = "Unknown version", body = crate::error::ErrorBody)
    ))]
pub async fn rollback_rules(
    caller: Caller,
    state: web::Data<AppState>,
    param: web::Query<TenantParam>,
    body: web::Json<RollbackRequest>,
) -> ApiResult<actix_web::HttpResponse> {
    let to_version = match body.into_inner().to_version {
        Some(v) if v >= 1 => v,
        _ => {
            return Err(ApiError::invalid(
                "to_version",
                "must be a version number (>= 1)",
            ))
        }
    };
    let (service, tenant) = (state.console.rules.clone(), tenant(param));
    let version = caller
        .run(move |p| service.rollback(p, tenant, to_version))
        .await?;
    Ok(actix_web::HttpResponse::Created().json(RulesVersionResponse::from(version)))
}
