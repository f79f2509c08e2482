//! Routes declared once.
//!
//! A route is its handler, annotated with `#[utoipa::path(method, path = "...", ...)]`, plus
//! the [`Access`] it needs, registered with [`route!`](crate::route). From that one declaration come:
//! - the actix route (one resource per path, so a known path with another method answers
//!   405 with `Allow`),
//! - the OpenAPI operation (security, the permission in its description, and the error
//!   answers every authenticated route can give),
//! - the route table that the tests walk (every non-public route answers 401 without a
//!   token, every route missing a permission answers 403),
//! - the permission the [`crate::caller::Caller`] extractor enforces and the operation name
//!   it logs.
//!
//! A path literal therefore appears once in the source: in the `#[utoipa::path]` attribute.

use std::{collections::BTreeMap, sync::Arc};

use actix_web::{
    dev::HttpServiceFactory, http::Method, web, FromRequest, Handler, HttpRequest, Responder,
};
use tenant_auth::Permission;
use utoipa::openapi::{
    path::{HttpMethod, Operation},
    schema::Schema,
    RefOr,
};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed (probes, the OpenAPI document, login).
    Public,
    /// A valid token whose role grants the permission.
    Requires(Permission),
    /// A page of the web console (`/console`): a session cookie instead of a bearer token,
    /// checked by the console's session extractor (no session: a redirect to the login page;
    /// `None`: no session needed, the login page itself). HTML, so not in the OpenAPI
    /// document; in the route table like every route.
    Console(Option<Permission>),
}

impl Access {
    /// Any authenticated tenant or platform user may read tenant data.
    pub const READ: Access = Access::Requires(Permission::ReadTenantData);
    /// `admin` or `trader`.
    pub const TRADE: Access = Access::Requires(Permission::Trade);
}

/// One registered route, as the tests and the document see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// HTTP method.
    pub method: Method,
    /// Path pattern, e.g. `/api/v1/tenants/{id}`.
    pub path: String,
    /// Who may call it.
    pub access: Access,
    /// The OpenAPI `operationId` (the handler's name), also the logged operation name.
    pub operation_id: String,
}

type MakeRoute = Box<dyn Fn() -> actix_web::Route>;
type Schemas = Vec<(String, RefOr<Schema>)>;

/// A route declaration: built by [`route!`](crate::route).
pub struct RouteSpec {
    info: RouteInfo,
    operation: Operation,
    schemas: Schemas,
    make: MakeRoute,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSpec")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

impl RouteSpec {
    /// The declaration of `handler`, whose `#[utoipa::path]` generated `P`. Use [`route!`](crate::route).
    ///
    /// # Panics
    /// When the annotation names no method or several (a programming error caught by every
    /// test that builds the app).
    pub fn new<P, F, Args>(access: Access, handler: F) -> Self
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences,
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let methods = P::methods();
        #[allow(clippy::expect_used)] // a declaration error, seen by every test at start-up
        let method = match methods.as_slice() {
            [only] => actix_method(only),
            _ => panic!("route {} must declare exactly one method", P::path()),
        };
        let operation = P::operation();
        let mut schemas = Vec::new();
        P::schemas(&mut schemas);
        let operation_id = operation.operation_id.clone().unwrap_or_else(|| P::path());
        let route_method = method.clone();
        Self {
            info: RouteInfo {
                method,
                path: P::path(),
                access,
                operation_id,
            },
            operation,
            schemas,
            make: Box::new(move || {
                web::route()
                    .method(route_method.clone())
                    .to(handler.clone())
            }),
        }
    }

    /// What the route is.
    pub fn info(&self) -> &RouteInfo {
        &self.info
    }

    pub(crate) fn operation(&self) -> &Operation {
        &self.operation
    }

    pub(crate) fn schemas(&self) -> &Schemas {
        &self.schemas
    }
}

/// Declares a route: `route!(Access::READ, get_spot_positions)` for a handler annotated with
/// `#[utoipa::path(...)]` in the same module.
#[macro_export]
macro_rules! route {
    ($access:expr, $handler:ident) => {
        pastey::paste! {
            $crate::routing::RouteSpec::new::<[<__path_ $handler>], _, _>($access, $handler)
        }
    };
}

/// The declarations of a router module, collected by [`crate::routes::all`].
#[derive(Debug, Default)]
pub struct Routes(Vec<RouteSpec>);

impl Routes {
    /// Adds a declaration.
    pub fn add(&mut self, spec: RouteSpec) -> &mut Self {
        self.0.push(spec);
        self
    }

    /// Every declaration.
    pub fn specs(&self) -> &[RouteSpec] {
        &self.0
    }

    /// The route table.
    pub fn table(&self) -> Vec<RouteInfo> {
        self.0.iter().map(|s| s.info.clone()).collect()
    }

    /// Registers every route on `cfg`: one resource per path holding its methods, the
    /// access table the [`crate::caller::Caller`] reads, and a 405 with `Allow` for the
    /// methods a path does not have.
    pub fn register(self, cfg: &mut web::ServiceConfig) {
        let mut by_path: BTreeMap<String, Vec<RouteSpec>> = BTreeMap::new();
        for spec in self.0 {
            by_path
                .entry(spec.info.path.clone())
                .or_default()
                .push(spec);
        }
        // actix tries resources in registration order, and a path with parameters is matched
        // by a regex: static paths go first, so a request for one runs no regex. No outcome
        // changes: a parameterised path that also matches a static path sorts after it in the
        // BTreeMap already ('{' sorts after every character of a path literal), so the static
        // path won before as well.
        let (fixed, parameterised): (Vec<_>, Vec<_>) = by_path
            .into_iter()
            .partition(|(path, _)| !path.contains('{'));
        for (path, specs) in fixed.into_iter().chain(parameterised) {
            cfg.service(resource(&path, specs));
        }
    }
}

/// The access and operation name of each method of one resource.
#[derive(Debug, Clone, Default)]
pub struct ResourceAccess(BTreeMap<String, (Access, Arc<str>)>);

impl ResourceAccess {
    /// The entry of `req`'s method.
    pub fn of(req: &HttpRequest) -> Option<(Access, Arc<str>)> {
        req.app_data::<ResourceAccess>()?
            .0
            .get(req.method().as_str())
            .cloned()
    }
}

fn resource(path: &str, specs: Vec<RouteSpec>) -> impl HttpServiceFactory {
    let mut access = ResourceAccess::default();
    let mut allow: Vec<String> = Vec::new();
    let mut resource = web::resource(path.to_owned());
    for spec in specs {
        let name = spec.info.operation_id.replace('_', " ");
        let method = spec.info.method.as_str().to_owned();
        access
            .0
            .insert(method.clone(), (spec.info.access, name.into()));
        allow.push(method);
        resource = resource.route((spec.make)());
    }
    let allow = allow.join(", ");
    resource
        .app_data(access)
        .wrap(actix_web::middleware::from_fn(crate::caller::authorize))
        .default_service(web::to(move || {
        let allow = allow.clone();
        async move { Err::<actix_web::HttpResponse, _>(crate::error::method_not_allowed(&allow)) }
    }))
}

#[cfg(test)]
mod tests {
    use actix_web::dev::ResourceDef;

    /// `Routes::register` puts static paths first; that changes no outcome only if, for every
    /// static path a parameterised pattern also matches, the static path came first before
    /// as well (in the BTreeMap's string order).
    #[test]
    fn static_paths_first_changes_no_match() {
        let table = crate::routes::all().table();
        let (fixed, parameterised): (Vec<_>, Vec<_>) =
            table.iter().partition(|r| !r.path.contains('{'));
        assert!(!fixed.is_empty() && !parameterised.is_empty());
        for p in &parameterised {
            let def = ResourceDef::new(p.path.as_str());
            for s in &fixed {
                if def.is_match(&s.path) {
                    assert!(
                        s.path < p.path,
                        "{} matches {} and sorted before it",
                        p.path,
                        s.path
                    );
                }
            }
        }
    }
}
