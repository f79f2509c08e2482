//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and
//! the DTOs' `ToSchema` derives, served at `GET /openapi.json`.

use actix_web::{http::Method, HttpResponse};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::routing::Routes;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "AlphaPulse API", description = "Multi-tenant trading API. Every route but the probes, this document and login needs a bearer JWT."),
    paths(
        crate::health::health,
        crate::health::ready,
        crate::routes::auth::login_json,
        crate::routes::auth::login_form,
        crate::routes::tenants::list_tenants,
        crate::routes::tenants::create_tenant,
        crate::routes::tenants::get_tenant,
        crate::routes::tenants::update_tenant,
        crate::routes::tenants::delete_tenant,
        crate::routes::users::list_users,
        crate::routes::users::create_user,
        crate::routes::users::update_user,
        crate::routes::positions::spot_positions,
        crate::routes::positions::futures_positions,
        crate::routes::positions::position_metrics,
        crate::routes::regime::current_regime,
        crate::routes::regime::regime_history,
        crate::routes::regime::regime_analysis,
        crate::routes::regime::regime_alerts,
        crate::routes::ensemble::create_ensemble,
        crate::routes::ensemble::list_ensembles,
        crate::routes::ensemble::register_agent,
        crate::routes::ensemble::predict,
        crate::routes::ensemble::ensemble_performance,
        crate::routes::ensemble::ensemble_weights,
        crate::routes::ensemble::optimize_weights,
        crate::routes::ensemble::agent_rankings,
        crate::routes::hedging::hedge_analysis,
        crate::routes::hedging::execute_hedge,
        crate::routes::hedging::close_hedges,
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::error::FieldError,
        crate::routes::tenants::TenantResponse,
        crate::routes::tenants::TenantPage,
        crate::routes::tenants::CreateTenantRequest,
        crate::routes::tenants::UpdateTenantRequest,
        crate::routes::users::UserResponse,
        crate::routes::users::UserPage,
        crate::routes::users::CreateUserRequest,
        crate::routes::users::UpdateUserRequest,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
#[derive(Debug)]
pub struct ApiDoc;

/// Registers `GET /openapi.json`.
pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Method::GET, "/openapi.json", openapi_json);
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
}
