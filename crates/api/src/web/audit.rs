//! `/console/audit`: the decision audit trail with filters that keep their values, keyset
//! pages, and the CSV download of the same filters.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use alphapulse_console::AuditQuery;
use alphapulse_domain::{ports::AuditAction, PageRequest, TenantId, TextEnum};
use chrono::NaiveDate;
use maud::{html, Markup};
use tenant_auth::Permission;
use uuid::Uuid;

use super::{
    layout::{field, page, pill, respond, Section},
    pages::PageResult,
    session::{self, query, urlencode, ConsoleSession},
};
use crate::{
    error::ApiError,
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the Audit routes.
pub fn declare(routes: &mut Routes) {
    let read = Access::Console(Some(Permission::ReadTenantData));
    routes
        .add(route!(read, console_audit))
        .add(route!(read, console_audit_export));
}

/// Rows per page.
const PAGE_SIZE: u32 = 50;

/// The filters as typed (kept in the form), and what was wrong with them.
#[derive(Debug, Default)]
struct Filters {
    date_from: String,
    date_to: String,
    action: String,
    vendor: String,
    tenant: String,
    errors: Vec<(String, String)>,
}

impl Filters {
    fn of(req: &HttpRequest) -> Self {
        let q = query(req);
        let get = |k: &str| session::field(&q, k).unwrap_or_default().trim().to_owned();
        Self {
            date_from: get("date_from"),
            date_to: get("date_to"),
            action: get("action"),
            vendor: get("vendor"),
            tenant: get("tenant"),
            errors: Vec::new(),
        }
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    /// The service's query; unparsable fields are recorded as errors.
    fn query(&mut self) -> AuditQuery {
        let mut date = |text: &str, name: &str| {
            if text.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    self.errors
                        .push((name.to_owned(), "must be a date (YYYY-MM-DD)".to_owned()));
                    None
                }
            }
        };
        let date_from = date(&self.date_from.clone(), "date_from");
        let date_to = date(&self.date_to.clone(), "date_to");
        let tenant_id = if self.tenant.is_empty() {
            None
        } else {
            match Uuid::parse_str(&self.tenant) {
                Ok(t) => Some(TenantId(t)),
                Err(_) => {
                    self.errors
                        .push(("tenant".to_owned(), "unknown tenant".to_owned()));
                    None
                }
            }
        };
        AuditQuery {
            date_from,
            date_to,
            action: (!self.action.is_empty()).then(|| self.action.clone()),
            vendor: (!self.vendor.is_empty()).then(|| self.vendor.clone()),
            tenant_id,
        }
    }

    /// The filters as a query string (for the next page and the download).
    fn query_string(&self) -> String {
        [
            ("date_from", &self.date_from),
            ("date_to", &self.date_to),
            ("action", &self.action),
            ("vendor", &self.vendor),
            ("tenant", &self.tenant),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

struct Rows {
    items: Vec<alphapulse_domain::ports::DecisionAuditRow>,
    next_cursor: Option<String>,
    tenants: Vec<(TenantId, String)>,
}

fn view(session: &ConsoleSession, f: &Filters, rows: &Rows) -> Markup {
    let qs = f.query_string();
    let platform = session.principal().role.is_platform();
    let name_of = |t: TenantId| {
        rows.tenants
            .iter()
            .find(|(id, _)| *id == t)
            .map_or_else(|| t.to_string()[..8].to_owned(), |(_, n)| n.clone())
    };
    page(
        "Audit",
        Some(Section::Audit),
        Some(session),
        html! {
            h1 { "Audit trail" }
            div.card {
                form method="get" action="/console/audit" id="audit-filters" class="row" {
                    @if platform {
                        (field("Tenant", f.error("tenant"), html! {
                            select name="tenant" id="tenant" class=[f.error("tenant").map(|_| "invalid")] {
                                option value="" { "All my tenants" }
                                @for (id, name) in &rows.tenants {
                                    option value=(id) selected[f.tenant == id.to_string()] { (name) }
                                }
                            }
                        }, None))
                    }
                    (field("From", f.error("date_from"), html! {
                        input type="date" name="date_from" id="date_from" value=(f.date_from) class=[f.error("date_from").map(|_| "invalid")];
                    }, None))
                    (field("To", f.error("date_to"), html! {
                        input type="date" name="date_to" id="date_to" value=(f.date_to) class=[f.error("date_to").map(|_| "invalid")];
                    }, None))
                    (field("Action", f.error("action"), html! {
                        select name="action" id="action" class=[f.error("action").map(|_| "invalid")] {
                            option value="" { "Any" }
                            @for a in AuditAction::ALL {
                                option value=(a.as_str()) selected[f.action == a.as_str()] { (a.as_str()) }
                            }
                        }
                    }, None))
                    (field("Venue:symbol", f.error("vendor"), html! {
                        input type="text" name="vendor" id="vendor" placeholder="paper:BTCUSDT" value=(f.vendor) class=[f.error("vendor").map(|_| "invalid")];
                    }, None))
                    div.field { button type="submit" id="apply-filters" { "Apply" } }
                    div.field { a href="/console/audit" { "Clear" } }
                    div.field style="margin-left:auto" {
                        @if f.errors.is_empty() {
                            a id="download-csv" href={"/console/audit/export.csv" @if !qs.is_empty() { "?" (qs) }} download { "Download CSV" }
                        }
                    }
                }
            }
            div.card {
                @if rows.items.is_empty() {
                    div.empty id="no-rows" { @if f.errors.is_empty() { "No audit entries match these filters." } @else { "Fix the filters above." } }
                } @else {
                    table id="audit" {
                        thead { tr {
                            th { "Time (UTC)" }
                            @if platform { th { "Tenant" } }
                            th { "Action" } th { "Venue:symbol" } th { "Reason not auto-posted" }
                            th.num { "Calibrated p" } th.num { "Threshold" } th { "Txn" } th { "User" }
                        } }
                        tbody {
                            @for r in &rows.items {
                                tr {
                                    td { (r.timestamp.format("%Y-%m-%d %H:%M:%S")) }
                                    @if platform { td { (name_of(r.tenant_id)) } }
                                    td.action { (pill(r.action.as_str())) }
                                    td.mono.vendor { (r.vendor_normalized) }
                                    td { (r.not_auto_post_reason.as_deref().unwrap_or("")) }
                                    td.num { (r.calibrated_p.map_or_else(String::new, |p| format!("{p:.3}"))) }
                                    td.num { (r.threshold_used.map_or_else(String::new, |p| format!("{p:.2}"))) }
                                    td.mono { (r.txn_id.simple().to_string()[..8]) }
                                    td.mono { (r.user_id.map_or_else(String::new, |u| u.to_string()[..8].to_owned())) }
                                }
                            }
                        }
                    }
                    @if let Some(c) = &rows.next_cursor {
                        p { a id="older" href={"/console/audit?" (qs) @if !qs.is_empty() { "&" } "cursor=" (c)} { "Older entries →" } }
                    }
                }
            }
        },
    )
}

/// `GET /console/audit`.
#[utoipa::path(get, path = "/console/audit", tag = "console", responses((status = 200, description = "HTML")))]
pub async fn console_audit(
    session: ConsoleSession,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> PageResult {
    let mut f = Filters::of(&req);
    let q = f.query();
    let cursor = session::field(&query(&req), "cursor").map(str::to_owned);
    let (audit, settings) = (state.console.audit.clone(), state.console.settings.clone());
    let parsed = f.errors.is_empty();
    let result = session
        .run(move |p| {
            let tenants = settings
                .list(p, &PageRequest::new(Some(500), None)?)?
                .items
                .into_iter()
                .map(|t| (t.tenant.id, t.tenant.name))
                .collect();
            if !parsed {
                return Ok::<_, ApiError>((tenants, Ok(None)));
            }
            let page = PageRequest::new(Some(PAGE_SIZE), cursor)?;
            Ok((
                tenants,
                audit.list(p, &q, &page).map(Some).map_err(ApiError::from),
            ))
        })
        .await?;
    let (tenants, listed) = result;
    let mut status = StatusCode::OK;
    let mut rows = Rows {
        items: Vec::new(),
        next_cursor: None,
        tenants,
    };
    match listed {
        Ok(Some(page)) => {
            rows.items = page.items;
            rows.next_cursor = page.next_cursor;
        }
        Ok(None) => status = StatusCode::UNPROCESSABLE_ENTITY,
        Err(ApiError::Validation(errors)) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            f.errors
                .extend(errors.into_iter().map(|e| (e.field, e.message)));
        }
        Err(ApiError::NotFound(_)) => {
            status = StatusCode::NOT_FOUND;
            f.errors
                .push(("tenant".to_owned(), "not a tenant you may see".to_owned()));
        }
        Err(other) => return Err(other.into()),
    }
    Ok(respond(status, view(&session, &f, &rows)))
}

/// `GET /console/audit/export.csv`: the CSV of the page's filters, streamed.
#[utoipa::path(get, path = "/console/audit/export.csv", tag = "console", responses((status = 200, description = "CSV")))]
pub async fn console_audit_export(
    session: ConsoleSession,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> PageResult {
    let mut f = Filters::of(&req);
    let q = f.query();
    if let Some((field, message)) = f.errors.first() {
        return Err(ApiError::invalid(field, message.clone()).into());
    }
    let service = state.console.audit.clone();
    let export = session.run(move |p| service.export(p, &q)).await?;
    let response: HttpResponse = crate::routes::console::stream_csv(export);
    Ok(response)
}
