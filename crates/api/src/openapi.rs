//! The OpenAPI 3.1 document, assembled from the route declarations ([`crate::routing`]):
//! each handler's `#[utoipa::path]` operation, plus what every route of its kind can answer
//! (401/403/503 for authenticated routes, 404 for paths with parameters, 400/413/415/422 for
//! routes that take a body or parameters), its security and its permission.

use tenant_auth::Role;
use utoipa::{
    openapi::{
        path::{HttpMethod, Operation},
        request_body::RequestBody,
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
        ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Response,
        ResponseBuilder, Schema,
    },
    PartialSchema, ToSchema,
};

use crate::{
    error::{ErrorBody, FieldError},
    routing::{Access, RouteInfo, Routes},
};

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
        .into()
}

fn http_method(info: &RouteInfo) -> HttpMethod {
    match info.method.as_str() {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn has_body(body: Option<&RequestBody>) -> bool {
    body.is_some()
}

/// Adds what the declaration implies to an operation.
fn decorate(op: &mut Operation, info: &RouteInfo) {
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    };
    let takes_body = has_body(op.request_body.as_ref());
    let takes_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if takes_body {
        add("400", "Malformed body");
        add("413", "Body too large");
        add("415", "Wrong Content-Type");
    }
    if takes_body || takes_params {
        add("422", "Invalid field (listed in `errors`)");
    }
    if info.path.contains('{') {
        add("404", "Unknown resource, or another tenant's");
    }
    match info.access {
        Access::Public | Access::Console(_) => {
            op.security = Some(vec![SecurityRequirement::default()]);
        }
        Access::Requires(permission) => {
            add(
                "401",
                "Missing, expired or invalid token; unknown or inactive user",
            );
            add(
                "403",
                "The role lacks the permission, or the tenant is suspended or cancelled",
            );
            add("503", "Database unavailable (`Retry-After`)");
            add(
                "429",
                "The tenant's daily quota is used up, or too many requests at once (`Retry-After`, `X-RateLimit-*`)",
            );
            op.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            let roles: Vec<&str> = Role::ALL
                .iter()
                .filter(|r| r.allows(permission))
                .map(|r| r.as_str())
                .collect();
            let note = format!(
                "Requires the permission `{permission}` (roles: {}).",
                roles.join(", ")
            );
            op.description = Some(match op.description.take() {
                Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
                _ => note,
            });
        }
    }
}

/// Bodies of partial updates: at least one field. (Set here because utoipa 5.5's
/// `#[schema(min_properties = 1)]` emits `maxProperties`; the test below pins the result.)
const AT_LEAST_ONE_FIELD: &[&str] = &[
    "UpdateTenantRequest",
    "UpdateUserRequest",
    "UpdateRiskLimitsRequest",
    "UpdateSettingsRequest",
];

fn require_a_field(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(object)) = schema {
        object.min_properties = Some(1);
        object.max_properties = None;
    }
}

/// The document of `routes`.
pub fn document(routes: &Routes) -> OpenApi {
    let mut paths = Paths::new();
    let mut schemas = vec![
        (ErrorBody::name().into_owned(), ErrorBody::schema()),
        (FieldError::name().into_owned(), FieldError::schema()),
    ];
    for spec in routes.specs() {
        if matches!(spec.info().access, Access::Console(_)) {
            // HTML pages of the web console, with cookie sessions: not part of the JSON API.
            continue;
        }
        let mut op = spec.operation().clone();
        decorate(&mut op, spec.info());
        paths.add_path_operation(&spec.info().path, vec![http_method(spec.info())], op);
        schemas.extend(spec.schemas().iter().cloned());
    }
    let mut components = utoipa::openapi::Components::new();
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    for (name, mut schema) in schemas {
        if AT_LEAST_ONE_FIELD.contains(&name.as_str()) {
            require_a_field(&mut schema);
        }
        components.schemas.insert(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("AlphaPulse API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Multi-tenant trading API. Every route but the probes, this document and \
                     login needs a bearer JWT; a tenant only ever sees its own data.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        serde_json::to_value(document(&crate::routes::all())).expect("the document serialises")
    }

    /// docs/api.md is the reader's route table: every route of the JSON API has its row
    /// (`| METHOD[/METHOD...] | /path[?query] | ...`), and every row is a route.
    #[test]
    fn the_route_table_of_docs_api_md_lists_every_route() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
                .unwrap();
        let mut documented = std::collections::BTreeSet::new();
        for line in text.lines().filter(|l| l.starts_with("| ")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (methods, path) = (cells[1], cells[2]);
            // The web console's pages share one summary row (docs/console.md lists them).
            if !path.starts_with('/') || path.contains(", ") {
                continue;
            }
            let path = path.split('?').next().unwrap();
            for method in methods.split('/') {
                documented.insert(format!("{method} {path}"));
            }
        }
        let routes = crate::routes::all();
        let served: std::collections::BTreeSet<String> = routes
            .specs()
            .iter()
            .filter(|s| !matches!(s.info().access, Access::Console(_)))
            .map(|s| format!("{} {}", s.info().method, s.info().path))
            .collect();
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "routes without a row in docs/api.md: {missing:#?}"
        );
        assert!(
            extra.is_empty(),
            "rows of docs/api.md that are no route: {extra:#?}"
        );
    }

    #[test]
    fn partial_updates_need_at_least_one_field() {
        let doc = doc();
        for name in AT_LEAST_ONE_FIELD {
            let schema = &doc["components"]["schemas"][name];
            assert_eq!(schema["minProperties"], 1, "{name}");
            assert!(schema.get("maxProperties").is_none(), "{name}");
        }
    }

    #[test]
    fn name_patterns_are_the_ones_the_server_enforces() {
        let doc = doc();
        for (schema, field) in [
            ("CreateTenantRequest", "name"),
            ("UpdateTenantRequest", "name"),
            ("CreateEnsembleRequest", "name"),
        ] {
            assert_eq!(
                doc["components"]["schemas"][schema]["properties"][field]["pattern"],
                alphapulse_domain::text::NOT_BLANK_PATTERN,
                "{schema}.{field}"
            );
        }
        assert_eq!(
            doc["components"]["schemas"]["CreateTenantRequest"]["properties"]["slug"]["pattern"],
            "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
        );
    }

    #[test]
    fn one_schema_name_is_one_schema_and_every_reference_resolves() {
        // Two types of the same name in two crates would silently replace one another in
        // `components` (the last declared wins), and a type used only as a parameter is not
        // collected: both leave the document describing something the server does not send.
        let mut seen: std::collections::BTreeMap<String, Value> = Default::default();
        for spec in crate::routes::all().specs() {
            for (name, schema) in spec.schemas() {
                let schema = serde_json::to_value(schema).expect("a schema serialises");
                if let Some(before) = seen.insert(name.clone(), schema.clone()) {
                    assert_eq!(before, schema, "two different schemas are named {name}");
                }
            }
        }
        assert!(!seen.is_empty(), "no route declares a schema");
        let doc = doc();
        let text = doc.to_string();
        let mut refs = 0;
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().expect("split yields a first part");
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "unresolvable reference to {name}"
            );
            refs += 1;
        }
        assert!(refs > 0, "no reference was checked: {text}");
    }

    #[test]
    fn every_authenticated_operation_documents_401_403_503_and_404_with_ids() {
        let doc = doc();
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let public = op["security"] == serde_json::json!([{}]);
                for status in ["401", "403", "503"] {
                    assert!(
                        public || op["responses"].get(status).is_some(),
                        "{method} {path} {status}"
                    );
                }
                if path.contains('{') {
                    assert!(op["responses"].get("404").is_some(), "{method} {path}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 30, "{checked}");
    }
}
