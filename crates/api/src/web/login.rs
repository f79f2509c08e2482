//! `/console/login` (the form and its post), `/console/logout`, and `/console` itself.

use std::time::Duration;

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use maud::html;
use tenant_auth::Permission;

use super::{
    layout::{field, page, respond, secure},
    pages::PageResult,
    session::{
        cookie, csrf_of, form, query, removal, same, ConsoleSession, Refusal, LOGIN_CSRF_COOKIE,
        LOGIN_PATH, SESSION_COOKIE,
    },
};
use crate::{
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the login routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(
            Access::Console(Some(Permission::ReadTenantData)),
            console_home
        ))
        .add(route!(Access::Console(None), console_login_page))
        .add(route!(Access::Console(None), console_login))
        .add(route!(
            Access::Console(Some(Permission::ReadTenantData)),
            console_logout
        ));
}

/// Where a login may send the user back to: a console page, nothing else.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/console/")
                && !n.starts_with("/console/login")
                && !n.contains("//")
                && !n.contains('\\') =>
        {
            n.to_owned()
        }
        _ => "/console/firm".to_owned(),
    }
}

struct LoginForm<'a> {
    csrf: &'a str,
    email: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn login_markup(f: &LoginForm<'_>) -> maud::Markup {
    page(
        "Log in",
        None,
        None,
        html! {
            div.login {
                div.card {
                    h1 { "Sign in to the firm console" }
                    @if let Some(n) = f.notice { div.flash.ok role="status" { (n) } }
                    form method="post" action=(LOGIN_PATH) id="login-form" {
                        input type="hidden" name="csrf" value=(f.csrf);
                        input type="hidden" name="next" value=(f.next);
                        (field("E-mail", None, html! {
                            input type="email" name="email" id="email" value=(f.email) autocomplete="username" required style="width:100%";
                        }, None))
                        (field("Password", f.error, html! {
                            input type="password" name="password" id="password" autocomplete="current-password" required style="width:100%"
                                class=[f.error.map(|_| "invalid")];
                        }, None))
                        button type="submit" id="sign-in" { "Sign in" }
                    }
                }
                p.muted { "Owners see every tenant; staff their assigned tenants, read only; tenant admins their own tenant." }
            }
        },
    )
}

/// `GET /console`: to the Firm page (or the login page without a session).
#[utoipa::path(get, path = "/console", tag = "console", responses((status = 303, description = "To the Firm page")))]
pub async fn console_home(_session: ConsoleSession) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/firm"))
        .finish()
}

/// `GET /console/login`: the login form (with its double-submit CSRF cookie).
#[utoipa::path(get, path = "/console/login", tag = "console", responses((status = 200, description = "HTML")))]
pub async fn console_login_page(req: HttpRequest) -> HttpResponse {
    let q = query(&req);
    let get = |k: &str| super::session::field(&q, k);
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let csrf = csrf_of(&secret);
    let notice = match (get("expired"), get("out")) {
        (Some(_), _) => Some("Your session expired: sign in again."),
        (_, Some(_)) => Some("You are signed out."),
        _ => None,
    };
    let next = safe_next(get("next"));
    let markup = login_markup(&LoginForm {
        csrf: &csrf,
        email: "",
        next: &next,
        error: None,
        notice,
    });
    secure(HttpResponse::Ok())
        .cookie(cookie(
            &req,
            LOGIN_CSRF_COOKIE,
            secret,
            LOGIN_PATH,
            Duration::from_secs(3600),
        ))
        .body(markup.into_string())
}

/// `POST /console/login`: checks the form's CSRF token against its cookie, logs in through
/// the same service as the API (rate-limited per client address) and sets the session cookie.
#[utoipa::path(post, path = "/console/login", tag = "console", responses((status = 303, description = "Signed in")))]
pub async fn console_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    let get = |k: &str| super::session::field(&pairs, k);
    let expected = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| csrf_of(c.value()))
        .unwrap_or_default();
    if expected.is_empty() || !get("csrf").is_some_and(|sent| same(sent, &expected)) {
        return Err(Refusal::Forbidden(
            "The login form's security token is missing or stale: reload the page.".to_owned(),
        )
        .into());
    }
    let (email, password) = (
        get("email").unwrap_or_default().to_owned(),
        get("password").unwrap_or_default().to_owned(),
    );
    let next = safe_next(get("next"));
    state.check_login_address(&req)?;
    // The same protocol as the API's login: per-account throttling, hashing on its own pool.
    let outcome = state.login.login(email.clone(), password).await;
    match outcome {
        Ok(token) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(cookie(
                &req,
                SESSION_COOKIE,
                token.access_token,
                "/console",
                Duration::from_secs(token.expires_in),
            ))
            .cookie(removal(&req, LOGIN_CSRF_COOKIE, LOGIN_PATH))
            .finish()),
        Err(alphapulse_admin::LoginError::BadCredentials) => {
            let csrf = expected;
            Ok(respond(
                StatusCode::UNAUTHORIZED,
                login_markup(&LoginForm {
                    csrf: &csrf,
                    email: &email,
                    next: &next,
                    error: Some("Unknown e-mail or wrong password."),
                    notice: None,
                }),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /console/logout`: ends the session (CSRF-checked) and clears the cookie.
#[utoipa::path(post, path = "/console/logout", tag = "console", responses((status = 303, description = "Signed out")))]
pub async fn console_logout(
    req: HttpRequest,
    session: ConsoleSession,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> PageResult {
    let pairs = form(&body);
    session.check_csrf(super::session::field(&pairs, "csrf"))?;
    state.console_logouts.end(session.token());
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{LOGIN_PATH}?out=1")))
        .cookie(removal(&req, SESSION_COOKIE, "/console"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_only_returns_to_console_pages() {
        assert_eq!(
            safe_next(Some("/console/audit?action=queued")),
            "/console/audit?action=queued"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/console/login",
            "/api/v1/x",
            "/console/\\evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/console/firm", "{bad}");
        }
        assert_eq!(safe_next(None), "/console/firm");
    }
}
