//! `/console/rules`: the selected tenant's pending candidates with their evidence, dry runs,
//! accept/reject, the rules in force, the versions and rollbacks.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use alphapulse_console::DryRun;
use alphapulse_domain::{
    ports::{regime_text, CandidateStatus, RuleCandidate, RulesVersion},
    PageRequest, Role, TenantId, TextEnum,
};
use maud::{html, Markup};
use tenant_auth::Permission;
use uuid::Uuid;

use super::{
    layout::{flash, page, pill, respond, Section},
    pages::PageResult,
    session::{self, form, query, urlencode, ConsoleSession},
};
use crate::{
    error::ApiError,
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the Rules routes.
pub fn declare(routes: &mut Routes) {
    let read = Access::Console(Some(Permission::ReadTenantData));
    let manage = Access::Console(Some(Permission::ManageSettings));
    routes
        .add(route!(read, console_rules))
        .add(route!(read, console_rules_dryrun))
        .add(route!(manage, console_rules_review))
        .add(route!(manage, console_rules_rollback))
        .add(route!(manage, console_rules_mine));
}

struct Data {
    tenant: Option<TenantId>,
    tenants: Vec<(TenantId, String)>,
    candidates: Vec<RuleCandidate>,
    versions: Vec<RulesVersion>,
}

/// The tenant the page shows: the one asked for, else the caller's own (tenant roles) or the
/// first visible one (platform roles).
async fn load(
    session: &ConsoleSession,
    state: &AppState,
    asked: Option<TenantId>,
) -> Result<Data, ApiError> {
    let (settings, rules) = (state.console.settings.clone(), state.console.rules.clone());
    session
        .run(move |p| {
            let visible = settings.list(p, &PageRequest::new(Some(500), None)?)?.items;
            let tenants: Vec<(TenantId, String)> = visible
                .iter()
                .map(|t| (t.tenant.id, t.tenant.name.clone()))
                .collect();
            let tenant = asked.or_else(|| {
                if p.role.is_platform() {
                    tenants.first().map(|t| t.0)
                } else {
                    Some(p.tenant_id)
                }
            });
            let Some(t) = tenant else {
                return Ok::<_, ApiError>(Data {
                    tenant,
                    tenants,
                    candidates: Vec::new(),
                    versions: Vec::new(),
                });
            };
            let page = PageRequest::new(Some(200), None)?;
            let candidates = rules
                .candidates(p, Some(t), Some(CandidateStatus::Pending), &page)?
                .items;
            let versions = rules
                .versions(p, Some(t), &PageRequest::new(Some(50), None)?)?
                .items;
            Ok(Data {
                tenant,
                tenants,
                candidates,
                versions,
            })
        })
        .await
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn short(id: Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

fn hidden(session: &ConsoleSession, tenant: TenantId) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(session.csrf());
        input type="hidden" name="tenant_id" value=(tenant);
    }
}

fn dry_run_panel(run: &DryRun) -> Markup {
    html! {
        div.card id="dryrun" {
            h2 { "Dry run · candidate " span.mono { (short(run.candidate_id)) } }
            div.kpis {
                div.kpi { b id="rate-before" { (pct(run.automation_rate_before)) } span { "automation now" } }
                div.kpi { b id="rate-after" { (pct(run.automation_rate_after)) } span { "with this rule" } }
                div.kpi { b { (format!("{:+.1} pp", run.automation_rate_delta * 100.0)) } span { "change" } }
                div.kpi { b id="affected" { (run.affected_decisions) } span { "decisions affected of " (run.decisions_considered) } }
            }
            table {
                thead { tr { th { "First reason" } th.num { "Before" } th.num { "After" } th.num { "Delta" } } }
                tbody {
                    @for (reason, d) in &run.reason_deltas {
                        tr { td { (reason) } td.num { (d.before) } td.num { (d.after) } td.num { (format!("{:+}", d.delta)) } }
                    }
                }
            }
            @if !run.affected.is_empty() {
                p.muted { "Newest affected decisions:" }
                table {
                    thead { tr { th { "Decision" } th { "When" } th { "Symbol" } th.num { "Calibrated p" } th { "Now" } th { "With the rule" } } }
                    tbody {
                        @for a in &run.affected {
                            tr {
                                td.mono { (short(a.decision_id)) }
                                td { (a.created_at.format("%Y-%m-%d %H:%M")) }
                                td { (a.symbol) " " (a.side.map_or("", |s| s.as_str())) }
                                td.num { (format!("{:.3}", a.calibrated_p)) }
                                td { (pill(a.action_before.as_str())) }
                                td { (pill(a.action_after.as_str())) }
                            }
                        }
                    }
                }
            }
            p.muted { "A dry run writes nothing." }
        }
    }
}

fn view(
    session: &ConsoleSession,
    data: &Data,
    run: Option<&DryRun>,
    ok: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let may_write = matches!(session.principal().role, Role::Owner | Role::Admin);
    let current = data.versions.first();
    page(
        "Rules",
        Some(Section::Rules),
        Some(session),
        html! {
            h1 { "Rules" }
            @if session.principal().role.is_platform() && !data.tenants.is_empty() {
                form method="get" action="/console/rules" class="row" style="margin-bottom:14px" {
                    div.field {
                        label { "Tenant" }
                        select name="tenant" id="tenant" {
                            @for (id, name) in &data.tenants {
                                option value=(id) selected[data.tenant == Some(*id)] { (name) }
                            }
                        }
                    }
                    div.field { button.secondary type="submit" { "Show" } }
                }
            }
            (flash(ok, error))
            @if let Some(run) = run { (dry_run_panel(run)) }
            @if let Some(tenant) = data.tenant {
                div.card {
                    h2 { "Pending candidates" }
                    @if data.candidates.is_empty() {
                        div.empty {
                            "No pending candidates. Candidates are mined from the decision history every hour."
                            @if may_write {
                                form.inline method="post" action="/console/rules/mine" style="margin-left:8px" {
                                    (hidden(session, tenant))
                                    button.secondary type="submit" id="mine" { "Mine now" }
                                }
                            }
                        }
                    } @else {
                        table id="candidates" {
                            thead { tr {
                                th { "Pattern" } th { "Regime" } th { "Ensemble" } th.num { "Evidence" }
                                th.num { "Precision" } th.num { "Std dev" } th { "Mined" } th { "" }
                            } }
                            tbody {
                                @for c in &data.candidates {
                                    tr data-candidate=(c.id) {
                                        td { b { (c.pattern.symbol) } " " (c.pattern.side.as_str()) }
                                        td { (regime_text(c.pattern.regime)) }
                                        td.mono { (short(c.pattern.ensemble_id)) }
                                        td.num { (c.evidence.count) }
                                        td.num { (pct(c.evidence.precision)) }
                                        td.num { (c.evidence.std_dev.map_or_else(|| "–".to_owned(), |s| format!("{s:.4}"))) }
                                        td { (c.mined_at.format("%Y-%m-%d %H:%M")) }
                                        td {
                                            form.inline method="post" action="/console/rules/dryrun" {
                                                (hidden(session, tenant))
                                                input type="hidden" name="candidate_id" value=(c.id);
                                                button.secondary.dryrun type="submit" { "Dry run" }
                                            }
                                            @if may_write {
                                                " "
                                                form.inline method="post" action="/console/rules/review" {
                                                    (hidden(session, tenant))
                                                    input type="hidden" name="candidate_id" value=(c.id);
                                                    input type="hidden" name="op" value="accept";
                                                    button.accept type="submit" { "Accept" }
                                                }
                                                " "
                                                form.inline method="post" action="/console/rules/review" {
                                                    (hidden(session, tenant))
                                                    input type="hidden" name="candidate_id" value=(c.id);
                                                    input type="hidden" name="op" value="reject";
                                                    button.danger.reject type="submit" { "Reject" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div.grid2 {
                    div.card {
                        h2 { "Rules in force" @if let Some(v) = current { " · version " span id="current-version" { (v.version) } } }
                        @match current {
                            Some(v) if !v.rules.is_empty() => {
                                table id="rules" {
                                    thead { tr { th { "Pattern" } th { "Regime" } th { "Ensemble" } th.num { "Evidence" } th.num { "Precision" } th { "Accepted" } } }
                                    tbody {
                                        @for r in &v.rules {
                                            tr {
                                                td { b { (r.pattern.symbol) } " " (r.pattern.side.as_str()) }
                                                td { (regime_text(r.pattern.regime)) }
                                                td.mono { (short(r.pattern.ensemble_id)) }
                                                td.num { (r.evidence.count) }
                                                td.num { (pct(r.evidence.precision)) }
                                                td { (r.accepted_at.format("%Y-%m-%d")) }
                                            }
                                        }
                                    }
                                }
                            }
                            _ => { div.empty { "No rule is in force: no decision is auto-executed." } }
                        }
                    }
                    div.card {
                        h2 { "Versions" }
                        @if data.versions.is_empty() {
                            div.empty { "No version yet: accepting a candidate creates version 1." }
                        } @else {
                            table id="versions" {
                                thead { tr { th.num { "Version" } th { "Change" } th.num { "Rules" } th { "When" } th { "" } } }
                                tbody {
                                    @for v in &data.versions {
                                        tr data-version=(v.version) {
                                            td.num { (v.version) @if let Some(p) = v.parent_version { span.muted { " ← " (p) } } }
                                            td { (pill(v.change.as_str())) @if let Some(to) = v.rolled_back_to { " to v" (to) } }
                                            td.num { (v.rules.len()) }
                                            td { (v.created_at.format("%Y-%m-%d %H:%M")) }
                                            td {
                                                @if may_write && current.is_some_and(|c| c.version != v.version) {
                                                    form.inline method="post" action="/console/rules/rollback" {
                                                        (hidden(session, tenant))
                                                        input type="hidden" name="to_version" value=(v.version);
                                                        button.secondary.rollback type="submit" { "Roll back to v" (v.version) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            } @else {
                div.card { div.empty { "No tenant is visible to you yet." } }
            }
        },
    )
}

fn tenant_param(text: Option<&str>) -> Option<TenantId> {
    text.and_then(|t| Uuid::parse_str(t).ok()).map(TenantId)
}

/// `GET /console/rules`.
#[utoipa::path(get, path = "/console/rules", tag = "console", responses((status = 200, description = "HTML")))]
pub async fn console_rules(
    session: ConsoleSession,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> PageResult {
    let q = query(&req);
    let data = load(&session, &state, tenant_param(session::field(&q, "tenant"))).await?;
    Ok(respond(
        StatusCode::OK,
        view(
            &session,
            &data,
            None,
            session::field(&q, "ok"),
            session::field(&q, "error"),
        ),
    ))
}

/// `POST /console/rules/dryrun`: the page with the candidate's dry run (writes nothing).
#[utoipa::path(post, path = "/console/rules/dryrun", tag = "console", responses((status = 200, description = "HTML")))]
pub async fn console_rules_dryrun(
    session: ConsoleSession,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    let get = |k: &str| session::field(&pairs, k);
    session.check_csrf(get("csrf"))?;
    let tenant = tenant_param(get("tenant_id"));
    let Some(candidate) = get("candidate_id").and_then(|c| Uuid::parse_str(c).ok()) else {
        return Err(ApiError::NotFound("Rule candidate".to_owned()).into());
    };
    let service = state.console.rules.clone();
    let run = session
        .run(move |p| service.dry_run(p, tenant, candidate))
        .await?;
    let data = load(&session, &state, tenant).await?;
    Ok(respond(
        StatusCode::OK,
        view(&session, &data, Some(&run), None, None),
    ))
}

fn back(tenant: Option<TenantId>, key: &str, message: &str) -> HttpResponse {
    let tenant = tenant.map(|t| format!("tenant={t}&")).unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/console/rules?{tenant}{key}={}", urlencode(message)),
        ))
        .finish()
}

/// Conflicts and unknown ids come back to the page as a message; other errors are pages.
fn outcome<T>(
    tenant: Option<TenantId>,
    done: Result<T, ApiError>,
    ok: impl FnOnce(T) -> String,
) -> PageResult {
    match done {
        Ok(value) => Ok(back(tenant, "ok", &ok(value))),
        Err(ApiError::Conflict(why)) => Ok(back(tenant, "error", &why)),
        Err(other) => Err(other.into()),
    }
}

/// `POST /console/rules/review`: accept (a new version) or reject a candidate.
#[utoipa::path(post, path = "/console/rules/review", tag = "console", responses((status = 303, description = "Reviewed")))]
pub async fn console_rules_review(
    session: ConsoleSession,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    let get = |k: &str| session::field(&pairs, k);
    session.check_csrf(get("csrf"))?;
    let tenant = tenant_param(get("tenant_id"));
    let accept = get("op") == Some("accept");
    let Some(candidate) = get("candidate_id").and_then(|c| Uuid::parse_str(c).ok()) else {
        return Err(ApiError::NotFound("Rule candidate".to_owned()).into());
    };
    let service = state.console.rules.clone();
    let done = session
        .run(move |p| service.review(p, tenant, candidate, accept))
        .await;
    outcome(tenant, done, |(c, v)| match v {
        Some(v) => format!(
            "Accepted {} {}: rules version {}",
            c.pattern.symbol,
            c.pattern.side.as_str(),
            v.version
        ),
        None => format!("Rejected {} {}", c.pattern.symbol, c.pattern.side.as_str()),
    })
}

/// `POST /console/rules/rollback`: a new version equal to an old one.
#[utoipa::path(post, path = "/console/rules/rollback", tag = "console", responses((status = 303, description = "Rolled back")))]
pub async fn console_rules_rollback(
    session: ConsoleSession,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    let get = |k: &str| session::field(&pairs, k);
    session.check_csrf(get("csrf"))?;
    let tenant = tenant_param(get("tenant_id"));
    let Some(to) = get("to_version").and_then(|v| v.parse::<i32>().ok()) else {
        return Err(ApiError::NotFound("Rules version".to_owned()).into());
    };
    let service = state.console.rules.clone();
    let done = session.run(move |p| service.rollback(p, tenant, to)).await;
    outcome(tenant, done, |v| {
        format!("Rolled back to version {to}: now version {}", v.version)
    })
}

/// `POST /console/rules/mine`: mines the tenant's history now (the job's thresholds).
#[utoipa::path(post, path = "/console/rules/mine", tag = "console", responses((status = 303, description = "Mined")))]
pub async fn console_rules_mine(
    session: ConsoleSession,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    let get = |k: &str| session::field(&pairs, k);
    session.check_csrf(get("csrf"))?;
    let tenant = tenant_param(get("tenant_id"));
    let service = state.console.rules.clone();
    let done = session
        .run(move |p| service.mine(p, tenant, alphapulse_console::MineRequest::default()))
        .await;
    outcome(tenant, done, |found| {
        format!("Mining found {} pattern(s)", found.len())
    })
}
