//! The console's page chrome: header, navigation, the signed-in user, flash messages, and one
//! small stylesheet (no script: the pages work with forms and links only).

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, HttpResponseBuilder,
};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::session::ConsoleSession;

/// The console's stylesheet: dense tables, tabular figures, quiet colours.
const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1c2430;background:#f3f5f8}
header{display:flex;align-items:center;gap:24px;padding:0 24px;height:52px;background:#0f1b2d;color:#e8edf5}
header .brand{font-weight:650;letter-spacing:.2px}
header .brand small{font-weight:400;color:#8fa3bf;margin-left:6px}
header nav{display:flex;gap:4px;flex:1}
header nav a{color:#b9c6d8;text-decoration:none;padding:16px 12px;border-bottom:3px solid transparent}
header nav a.on{color:#fff;border-bottom-color:#3d8bfd}
header .who{color:#8fa3bf;font-size:13px;display:flex;align-items:center;gap:12px}
header .who form{margin:0}
main{max-width:1280px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:20px;margin:4px 0 16px}
h2{font-size:15px;margin:0 0 10px;color:#34425a;text-transform:uppercase;letter-spacing:.6px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:16px;margin-bottom:18px}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #edf0f4;white-space:nowrap}
th{font-size:12px;color:#5b6b82;font-weight:600;background:#f8fafc;position:sticky;top:0}
td.num,th.num{text-align:right}
tr.sel td{background:#eef5ff}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.pill.ok{background:#e3f6ea;color:#17703a}.pill.warn{background:#fff3d6;color:#8a5a00}
.pill.bad{background:#fde7e7;color:#a12626}.pill.muted{background:#eef1f5;color:#56657a}
.empty{padding:28px;text-align:center;color:#6b7a90}
.flash{padding:10px 14px;border-radius:5px;margin-bottom:14px}
.flash.ok{background:#e3f6ea;color:#17703a}.flash.bad{background:#fde7e7;color:#a12626}
form.inline{display:inline;margin:0}
label{display:block;font-size:12px;color:#4a5870;font-weight:600;margin-bottom:4px}
input,select{font:inherit;padding:6px 8px;border:1px solid #c6d0dc;border-radius:4px;background:#fff}
input.invalid,select.invalid{border-color:#c62828;background:#fff6f6}
.field{margin-bottom:12px}
.field .error{color:#c62828;font-size:12px;margin-top:3px}
.field .hint{color:#6b7a90;font-size:12px;margin-top:3px}
.row{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-end}
button{font:inherit;padding:6px 14px;border-radius:4px;border:1px solid #2f6fd6;background:#3d8bfd;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#2f6fd6}
button.danger{background:#fff;color:#b42318;border-color:#d9a29c}
button.link{background:none;border:none;color:#b9c6d8;padding:0}
a{color:#2f6fd6}
.grid2{display:grid;grid-template-columns:2fr 1fr;gap:18px}
.kpis{display:flex;gap:28px;margin:6px 0 14px}
.kpi b{display:block;font-size:22px}
.kpi span{color:#6b7a90;font-size:12px}
.login{max-width:380px;margin:80px auto}
.login .card{padding:26px}
.muted{color:#6b7a90}
"#;

/// The sections of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Tenants and their settings.
    Firm,
    /// Rule candidates and versions.
    Rules,
    /// The decision audit trail.
    Audit,
}

/// A full page: chrome around `body`.
pub fn page(
    title: &str,
    section: Option<Section>,
    session: Option<&ConsoleSession>,
    body: Markup,
) -> Markup {
    let tab = |s: Section, href: &str, text: &str| {
        html! { a class=[(section == Some(s)).then_some("on")] href=(href) { (text) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · AlphaPulse console" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    div.brand { "AlphaPulse" small { "Firm console" } }
                    @if let Some(s) = session {
                        nav {
                            (tab(Section::Firm, "/console/firm", "Firm"))
                            (tab(Section::Rules, "/console/rules", "Rules"))
                            (tab(Section::Audit, "/console/audit", "Audit"))
                        }
                        div.who {
                            span { (s.email().unwrap_or("signed in")) " · " (s.principal().role) }
                            form.inline method="post" action="/console/logout" {
                                input type="hidden" name="csrf" value=(s.csrf());
                                button.link type="submit" id="logout" { "Log out" }
                            }
                        }
                    } @else {
                        nav {}
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The response of a page, with the console's security headers.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    secure(HttpResponse::build(status)).body(markup.into_string())
}

/// The console's headers on a response builder.
pub fn secure(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    builder
}

/// A flash message from the query (`ok=...` or `error=...`).
pub fn flash(ok: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = ok { div.flash.ok role="status" { (text) } }
        @if let Some(text) = error { div.flash.bad role="alert" { (text) } }
    }
}

/// A labelled form field with its error underneath.
pub fn field(label: &str, error: Option<&str>, input: Markup, hint: Option<&str>) -> Markup {
    html! {
        div.field {
            label { (label) }
            (input)
            @if let Some(e) = error { div.error { (e) } }
            @if let Some(h) = hint { div.hint { (h) } }
        }
    }
}

/// A decision action or candidate status as a coloured pill.
pub fn pill(text: &str) -> Markup {
    let class = match text {
        "auto_executed" | "accepted" | "active" | "on" | "rule_accepted" => "ok",
        "queued" | "pending" | "settings_updated" | "rules_rolled_back" => "warn",
        "rejected" | "failed" | "suspended" | "cancelled" | "rule_rejected" => "bad",
        _ => "muted",
    };
    html! { span class={"pill " (class)} { (text) } }
}
