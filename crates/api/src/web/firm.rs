//! `/console/firm`: the tenants the user may see with their settings, and the selected
//! tenant's settings form (owner and the tenant's admin; staff read only).

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use alphapulse_console::{SettingsChange, TenantWithSettings};
use alphapulse_domain::{PageRequest, Role, TenantId, TextEnum};
use maud::html;
use tenant_auth::Permission;
use uuid::Uuid;

use super::{
    layout::{field, flash, page, pill, respond, Section},
    pages::PageResult,
    session::{self, form, query, ConsoleSession},
};
use crate::{
    error::ApiError,
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the Firm routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(
            Access::Console(Some(Permission::ReadTenantData)),
            console_firm
        ))
        .add(route!(
            Access::Console(Some(Permission::ManageSettings)),
            console_update_settings
        ));
}

/// What the settings form shows after a refused change.
#[derive(Debug, Default)]
struct FormState {
    autopost_enabled: Option<bool>,
    threshold: Option<String>,
    cap: Option<String>,
    threshold_error: Option<String>,
    cap_error: Option<String>,
    other_error: Option<String>,
}

async fn tenants(
    session: &ConsoleSession,
    state: &AppState,
) -> Result<Vec<TenantWithSettings>, ApiError> {
    let service = state.console.settings.clone();
    session
        .run(move |p| {
            let page = PageRequest::new(Some(500), None)?;
            service.list(p, &page).map_err(ApiError::from)
        })
        .await
        .map(|page| page.items)
}

fn view(
    session: &ConsoleSession,
    list: &[TenantWithSettings],
    selected: Option<TenantId>,
    form_state: &FormState,
    ok: Option<&str>,
) -> maud::Markup {
    let chosen = selected
        .and_then(|id| list.iter().find(|t| t.tenant.id == id))
        .or_else(|| list.first());
    let may_write = matches!(session.principal().role, Role::Owner | Role::Admin);
    page(
        "Firm",
        Some(Section::Firm),
        Some(session),
        html! {
            h1 { "Firm" }
            (flash(ok, form_state.other_error.as_deref()))
            div.grid2 {
                div.card {
                    h2 { "Tenants" }
                    @if list.is_empty() {
                        div.empty { "No tenant is visible to you yet." }
                    } @else {
                        table id="tenants" {
                            thead { tr {
                                th { "Tenant" } th { "Status" } th { "Autopost" }
                                th.num { "Threshold" } th.num { "LLM cap (USD/month)" } th { "Last change" }
                            } }
                            tbody {
                                @for t in list {
                                    @let sel = chosen.is_some_and(|c| c.tenant.id == t.tenant.id);
                                    tr class=[sel.then_some("sel")] data-tenant=(t.tenant.id) {
                                        td { a href={"/console/firm?tenant=" (t.tenant.id)} { (t.tenant.name) } " " span.muted.mono { (t.tenant.slug) } }
                                        td { (pill(t.tenant.status.as_str())) }
                                        td.autopost { (pill(if t.settings.autopost_enabled { "on" } else { "off" })) }
                                        td.num.threshold { (format!("{:.2}", t.settings.autopost_threshold)) }
                                        td.num.cap { (t.settings.llm_tenant_cap_usd.normalize()) }
                                        td.muted { (t.settings.updated_at.map_or_else(|| "defaults".to_owned(), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())) }
                                    }
                                }
                            }
                        }
                    }
                }
                div.card {
                    @if let Some(t) = chosen {
                        h2 { "Settings · " (t.tenant.name) }
                        @if may_write {
                            form method="post" action="/console/firm/settings" id="settings-form" {
                                input type="hidden" name="csrf" value=(session.csrf());
                                input type="hidden" name="tenant_id" value=(t.tenant.id);
                                div.field {
                                    label {
                                        input type="checkbox" name="autopost_enabled" id="autopost_enabled" value="on"
                                            checked[form_state.autopost_enabled.unwrap_or(t.settings.autopost_enabled)];
                                        " Auto-execute decisions that pass every check"
                                    }
                                }
                                (field("Autopost threshold (calibrated probability)", form_state.threshold_error.as_deref(), html! {
                                    input type="number" name="autopost_threshold" id="autopost_threshold" step="0.01" min="0.80" max="0.98"
                                        value=(form_state.threshold.clone().unwrap_or_else(|| format!("{:.2}", t.settings.autopost_threshold)))
                                        class=[form_state.threshold_error.as_ref().map(|_| "invalid")];
                                }, Some("0.80 to 0.98")))
                                (field("LLM spend cap (USD per calendar month)", form_state.cap_error.as_deref(), html! {
                                    input type="text" name="llm_tenant_cap_usd" id="llm_tenant_cap_usd" inputmode="decimal"
                                        value=(form_state.cap.clone().unwrap_or_else(|| t.settings.llm_tenant_cap_usd.normalize().to_string()))
                                        class=[form_state.cap_error.as_ref().map(|_| "invalid")];
                                }, Some("0 or more, at most 2 decimals")))
                                button type="submit" id="save-settings" { "Save settings" }
                            }
                        } @else {
                            table {
                                tr { th { "Autopost" } td { (if t.settings.autopost_enabled { "on" } else { "off" }) } }
                                tr { th { "Threshold" } td { (format!("{:.2}", t.settings.autopost_threshold)) } }
                                tr { th { "LLM cap" } td { (t.settings.llm_tenant_cap_usd.normalize()) " USD" } }
                            }
                            p.muted { "Read only: staff may view the tenants assigned to them." }
                        }
                        p.muted {
                            a href={"/console/rules?tenant=" (t.tenant.id)} { "Rules" } " · "
                            a href={"/console/audit?tenant=" (t.tenant.id)} { "Audit trail" }
                        }
                    } @else {
                        div.empty { "Select a tenant." }
                    }
                }
            }
        },
    )
}

fn tenant_param(text: Option<&str>) -> Option<TenantId> {
    text.and_then(|t| Uuid::parse_str(t).ok()).map(TenantId)
}

/// `GET /console/firm`.
#[utoipa::path(get, path = "/console/firm", tag = "console", responses((status = 200, description = "HTML")))]
pub async fn console_firm(
    session: ConsoleSession,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> PageResult {
    let q = query(&req);
    let list = tenants(&session, &state).await?;
    let selected = tenant_param(session::field(&q, "tenant"));
    Ok(respond(
        StatusCode::OK,
        view(
            &session,
            &list,
            selected,
            &FormState::default(),
            session::field(&q, "ok"),
        ),
    ))
}

/// `POST /console/firm/settings`: saves the form (CSRF-checked); a refused value is shown
/// next to its field (422, nothing written).
#[utoipa::path(post, path = "/console/firm/settings", tag = "console", responses((status = 303, description = "Saved")))]
pub async fn console_update_settings(
    session: ConsoleSession,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    let get = |k: &str| session::field(&pairs, k);
    session.check_csrf(get("csrf"))?;
    let Some(tenant) = tenant_param(get("tenant_id")) else {
        return Err(ApiError::NotFound("Tenant".to_owned()).into());
    };
    let mut form_state = FormState {
        autopost_enabled: Some(get("autopost_enabled").is_some()),
        threshold: get("autopost_threshold").map(str::to_owned),
        cap: get("llm_tenant_cap_usd").map(str::to_owned),
        ..FormState::default()
    };
    let threshold = match get("autopost_threshold").map(|t| t.trim().parse::<f64>()) {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            form_state.threshold_error = Some("must be a number between 0.80 and 0.98".into());
            None
        }
        None => None,
    };
    if form_state.threshold_error.is_none() {
        let change = SettingsChange {
            autopost_enabled: form_state.autopost_enabled,
            autopost_threshold: threshold,
            llm_tenant_cap_usd: form_state.cap.clone(),
        };
        let service = state.console.settings.clone();
        match session
            .run(move |p| service.update(p, tenant, change))
            .await
        {
            Ok(_) => {
                return Ok(HttpResponse::SeeOther()
                    .insert_header((
                        header::LOCATION,
                        format!("/console/firm?tenant={tenant}&ok=Settings%20saved"),
                    ))
                    .finish())
            }
            Err(ApiError::Validation(errors)) => {
                for e in errors {
                    let text = Some(e.message);
                    match e.field.as_str() {
                        "autopost_threshold" => form_state.threshold_error = text,
                        "llm_tenant_cap_usd" => form_state.cap_error = text,
                        _ => form_state.other_error = text,
                    }
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    let list = tenants(&session, &state).await?;
    Ok(respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        view(&session, &list, Some(tenant), &form_state, None),
    ))
}
