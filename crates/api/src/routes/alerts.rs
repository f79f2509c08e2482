//! `GET /api/v1/alerts` (any role) and `POST /api/v1/alerts/{id}/acknowledge` (`admin`,
//! `trader`): the tenant's alerts, raised by the rules (regime changes, limits, budgets,
//! correlation, quotas, failing exchange accounts) and deduplicated per condition.

use actix_web::web;
use alphapulse_domain::{
    ports::{Alert, AlertFilter, AlertSeverity, AlertSource},
    TextEnum,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    caller::Caller,
    error::ApiResult,
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, list_alerts))
        .add(route!(Access::TRADE, acknowledge_alert));
}

/// An alert.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertResponse {
    /// Identifier.
    pub id: Uuid,
    /// One line.
    pub title: String,
    /// What happened, with the figures.
    pub message: String,
    /// How urgent.
    pub severity: AlertSeverity,
    /// The rule that raised it.
    pub source: AlertSource,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// Whether someone acknowledged it.
    pub acknowledged: bool,
    /// Who.
    pub acknowledged_by: Option<Uuid>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Labels.
    pub tags: Vec<String>,
}

impl From<Alert> for AlertResponse {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id,
            title: a.title,
            message: a.message,
            severity: a.severity,
            source: a.source,
            created_at: a.created_at,
            acknowledged: a.acknowledged,
            acknowledged_by: a.acknowledged_by.map(|u| u.as_uuid()),
            acknowledged_at: a.acknowledged_at,
            tags: a.tags,
        }
    }
}

/// Filters of the alert list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Raised at or after (RFC 3339).
    pub start_time: Option<DateTime<Utc>>,
    /// Raised before (RFC 3339; not before `start_time`).
    pub end_time: Option<DateTime<Utc>>,
    /// Only this severity.
    #[param(value_type = Option<AlertSeverity>, inline)]
    pub severity: Option<String>,
    /// Only acknowledged (`true`) or open (`false`) alerts.
    pub acknowledged: Option<bool>,
    /// Only alerts of this rule.
    #[param(value_type = Option<AlertSource>, inline)]
    pub source: Option<String>,
}

/// The tenant's alerts, newest first, paginated.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery, PageQuery),
    responses(
        (status = 200, body = PageOf<AlertResponse>),
        (status = 422, description = "start_time after end_time, or an unknown severity or source (the valid ones are listed)", body = crate::error::ErrorBody)
    ))]
pub async fn list_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AlertQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<AlertResponse>>> {
    let query = query.into_inner();
    let filter = AlertFilter {
        start: query.start_time,
        end: query.end_time,
        severity: query
            .severity
            .as_deref()
            .map(AlertSeverity::parse_field)
            .transpose()?,
        acknowledged: query.acknowledged,
        source: query
            .source
            .as_deref()
            .map(AlertSource::parse_field)
            .transpose()?,
    };
    let page = page.into_inner().request()?;
    if let Some(read) = state
        .alerts
        .list_nonblocking(caller.principal(), filter.clone(), &page)
    {
        return Ok(web::Json(PageOf::of(read.await?)));
    }
    let service = state.alerts.clone();
    let page = caller.run(move |p| service.list(p, filter, &page)).await?;
    Ok(web::Json(PageOf::of(page)))
}

/// The acknowledged alert.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    /// Always `true`.
    pub success: bool,
    /// The alert, acknowledged by the caller.
    pub alert: AlertResponse,
}

/// Acknowledges an open alert of the tenant; audited.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts",
    params(("id" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, body = Acknowledged),
        (status = 409, description = "The alert is acknowledged already", body = crate::error::ErrorBody)
    ))]
pub async fn acknowledge_alert(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Acknowledged>> {
    let (service, id) = (state.alerts.clone(), id.into_inner());
    let alert = caller.run(move |p| service.acknowledge(p, id)).await?;
    Ok(web::Json(Acknowledged {
        success: true,
        alert: alert.into(),
    }))
}
