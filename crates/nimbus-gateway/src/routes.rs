//! The route table: which function an HTTP request reaches, with API Gateway's precedence.
//!
//! Routes of every deployed stack share one table (one gateway listener), each tagged with the
//! stack that owns it, so a redeploy swaps exactly that stack's routes and two stacks cannot
//! silently shadow each other.
//!
//! Precedence (API Gateway's "most specific match"):
//! 1. a route without a greedy `{proxy+}` beats one with it;
//! 2. then segment by segment from the left, a literal beats a `{param}`, which beats
//!    `{proxy+}` (so `/pets/dog/1` beats `/pets/dog/{id}` beats `/pets/{proxy+}` beats
//!    `/{proxy+}`);
//! 3. then an exact method beats `ANY`;
//! 4. `$default` (HTTP APIs only) catches what nothing else matched.
//!
//! `HEAD` is a method of its own: it matches `HEAD` and `ANY` routes only, never a `GET`
//! route (API Gateway does not fall back either; a REST API answers such a request with its
//! 403 "Missing Authentication Token", an HTTP API with 404).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::path::{self, Pattern, Segment};

/// Methods a route may name (`ANY` matches every method).
pub const ROUTE_METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// The route path of HTTP API's catch-all route.
pub const DEFAULT_ROUTE: &str = "$default";

/// Most routes the table holds: far above any real API (a REST API allows 300 resources,
/// an HTTP API 300 routes), low enough that a linear match stays in microseconds.
pub const ROUTES_MAX: usize = 10_000;

/// The payload format a Lambda proxy integration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadVersion {
    /// Payload format 1.0 (REST APIs always; HTTP APIs when configured).
    V1,
    /// Payload format 2.0 (HTTP APIs' default, and function URLs).
    V2,
}

/// The kind of API a route belongs to: it picks the payload format, the stage name and the
/// answer to a request no route matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    /// A REST API (`AWS::Serverless::Api`, SAM `Api` events): payload 1.0.
    Rest,
    /// An HTTP API (`AWS::Serverless::HttpApi`, SAM `HttpApi` events).
    Http {
        /// Its integration's payload format version.
        payload: PayloadVersion,
    },
}

impl ApiKind {
    /// The payload format its integrations receive.
    pub fn payload(self) -> PayloadVersion {
        match self {
            ApiKind::Rest => PayloadVersion::V1,
            ApiKind::Http { payload } => payload,
        }
    }

    /// The stage a request is served by: REST APIs use SAM's implicit stage `Prod` (Nimbus
    /// serves them without the stage in the URL, like `sam local start-api`); HTTP APIs
    /// serve from the `$default` stage.
    pub fn stage(self) -> &'static str {
        match self {
            ApiKind::Rest => "Prod",
            ApiKind::Http { .. } => "$default",
        }
    }
}

/// What a route invokes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Function name (or ARN).
    pub function: String,
    /// Alias or version; `None` is `$LATEST`.
    pub qualifier: Option<String>,
}

/// One route of an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The API it belongs to.
    pub api: ApiKind,
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// Path template (`/hello/{name}`, `/{proxy+}`) or [`DEFAULT_ROUTE`].
    pub path: String,
    /// The function it invokes.
    pub target: Target,
    /// The stack that declared it.
    pub owner: String,
    /// `GET /hello/{name}` or `$default`, as the 2.0 event's `routeKey` shows it.
    pub route_key: String,
}

/// A route shared with a matched request (the table keeps its own copy).
pub type RouteRef = Arc<Route>;

/// Why a route or a set of routes was refused. Nothing changed in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The method is not one API Gateway knows.
    #[error("route {route_key:?}: unsupported method {method:?} (use one of {})", ROUTE_METHODS.join(", "))]
    Method {
        /// The refused route's key.
        route_key: String,
        /// The method given.
        method: String,
    },
    /// The path template is malformed.
    #[error("route {route_key:?}: {reason}")]
    Path {
        /// The refused route's key.
        route_key: String,
        /// What is wrong with the path.
        reason: String,
    },
    /// `$default` belongs to HTTP APIs only.
    #[error("route {route_key:?}: a $default route exists only in HTTP APIs")]
    DefaultOnRest {
        /// The refused route's key.
        route_key: String,
    },
    /// Two stacks claim the same method and path.
    #[error(
        "route {route_key:?} of stack {owner:?} conflicts with route {existing_route_key:?} of stack {existing_owner:?}"
    )]
    Conflict {
        /// The refused route's key.
        route_key: String,
        /// The stack declaring it.
        owner: String,
        /// The route already holding the claim.
        existing_route_key: String,
        /// The stack owning that route.
        existing_owner: String,
    },
    /// One stack declares the same method and path twice.
    #[error("stack {owner:?} declares route {route_key:?} twice (as {other_route_key:?})")]
    Duplicate {
        /// The refused route's key.
        route_key: String,
        /// The other declaration in the same batch.
        other_route_key: String,
        /// The stack declaring it.
        owner: String,
    },
    /// The table would exceed [`ROUTES_MAX`].
    #[error("too many routes: at most {ROUTES_MAX}")]
    TooMany,
}

impl Route {
    /// A validated route; the method is upper-cased and the route key derived
    /// (`METHOD /path`, or `$default`).
    pub fn new(
        api: ApiKind,
        method: &str,
        path: &str,
        target: Target,
        owner: &str,
    ) -> Result<Route, RouteError> {
        let method = method.to_ascii_uppercase();
        let route_key = if path == DEFAULT_ROUTE {
            DEFAULT_ROUTE.to_string()
        } else {
            format!("{method} {path}")
        };
        let route = Route {
            api,
            method,
            path: path.to_string(),
            target,
            owner: owner.to_string(),
            route_key,
        };
        compile(&route)?;
        Ok(route)
    }

    /// The route function URLs behave as: an HTTP API `$default` route (payload 2.0).
    pub fn function_url(target: Target) -> Route {
        Route {
            api: ApiKind::Http {
                payload: PayloadVersion::V2,
            },
            method: "ANY".to_string(),
            path: DEFAULT_ROUTE.to_string(),
            target,
            owner: String::new(),
            route_key: DEFAULT_ROUTE.to_string(),
        }
    }
}

/// A route with its parsed path.
#[derive(Debug, Clone)]
struct Compiled {
    route: RouteRef,
    pattern: Pattern,
}

impl Compiled {
    /// The (method, path shape) two routes may not share: parameter names do not matter,
    /// as `/a/{x}` and `/a/{y}` match the same requests; `$default` ignores the method.
    fn claim(&self) -> (String, Vec<Segment>) {
        match &self.pattern {
            Pattern::Default => (String::new(), Vec::new()),
            Pattern::Segments(s) => (
                self.route.method.clone(),
                s.iter().map(Segment::shape).collect(),
            ),
        }
    }
}

fn compile(route: &Route) -> Result<Compiled, RouteError> {
    if !ROUTE_METHODS.contains(&route.method.as_str()) {
        return Err(RouteError::Method {
            route_key: route.route_key.clone(),
            method: route.method.clone(),
        });
    }
    let pattern = path::parse_template(&route.path).map_err(|reason| RouteError::Path {
        route_key: route.route_key.clone(),
        reason,
    })?;
    if pattern == Pattern::Default && route.api == ApiKind::Rest {
        return Err(RouteError::DefaultOnRest {
            route_key: route.route_key.clone(),
        });
    }
    Ok(Compiled {
        route: Arc::new(route.clone()),
        pattern,
    })
}

/// Every route of every stack, in match order.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Sorted by precedence (most specific first), so the first match wins.
    routes: Vec<Compiled>,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> RouteTable {
        RouteTable::default()
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// True when no route exists.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Every route, most specific first.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().map(|c| c.route.as_ref())
    }

    /// Adds one route. The same owner claiming a (method, path) again replaces its route;
    /// another owner's claim is a [`RouteError::Conflict`] naming both stacks.
    pub fn insert(&mut self, route: Route) -> Result<(), RouteError> {
        let compiled = compile(&route)?;
        let claim = compiled.claim();
        let mut kept = Vec::with_capacity(self.routes.len() + 1);
        for existing in &self.routes {
            if existing.claim() != claim {
                kept.push(existing.clone());
            } else if existing.route.owner == route.owner {
                // Replaced below.
            } else {
                return Err(conflict(&route, &existing.route));
            }
        }
        if kept.len() >= ROUTES_MAX {
            return Err(RouteError::TooMany);
        }
        kept.push(compiled);
        sort(&mut kept);
        self.routes = kept;
        Ok(())
    }

    /// Replaces every route of `owner` with `routes` at once (an empty list removes the
    /// stack's routes). Everything is checked first; on an error the table is unchanged.
    pub fn replace_owner(&mut self, owner: &str, routes: Vec<Route>) -> Result<(), RouteError> {
        let mut incoming: Vec<Compiled> = Vec::with_capacity(routes.len());
        for mut route in routes {
            route.owner = owner.to_string();
            let compiled = compile(&route)?;
            let claim = compiled.claim();
            if let Some(twin) = incoming.iter().find(|c| c.claim() == claim) {
                return Err(RouteError::Duplicate {
                    route_key: route.route_key.clone(),
                    other_route_key: twin.route.route_key.clone(),
                    owner: owner.to_string(),
                });
            }
            incoming.push(compiled);
        }
        let others: Vec<Compiled> = self
            .routes
            .iter()
            .filter(|c| c.route.owner != owner)
            .cloned()
            .collect();
        for new in &incoming {
            let claim = new.claim();
            if let Some(existing) = others.iter().find(|c| c.claim() == claim) {
                return Err(conflict(&new.route, &existing.route));
            }
        }
        if others.len() + incoming.len() > ROUTES_MAX {
            return Err(RouteError::TooMany);
        }
        let mut all = others;
        all.extend(incoming);
        sort(&mut all);
        self.routes = all;
        Ok(())
    }

    /// Removes every route of `owner`; returns how many there were.
    pub fn remove_owner(&mut self, owner: &str) -> usize {
        let before = self.routes.len();
        self.routes.retain(|c| c.route.owner != owner);
        before - self.routes.len()
    }

    /// The route a request reaches and its path parameters (decoded, as API Gateway passes
    /// them; a greedy parameter holds the rest of the path without its leading `/`).
    pub fn match_request(
        &self,
        method: &str,
        raw_path: &str,
    ) -> Option<(RouteRef, BTreeMap<String, String>)> {
        let segments = path::request_segments(raw_path);
        self.routes.iter().find_map(|c| {
            let method_ok = c.route.method == "ANY" || c.route.method == method;
            if !method_ok && c.pattern != Pattern::Default {
                return None;
            }
            path::match_segments(&c.pattern, &segments).map(|p| (Arc::clone(&c.route), p))
        })
    }

    /// The API a request no route matched would have hit, which decides the answer (a
    /// REST API's 403 or an HTTP API's 404): the API of a route whose path matches with
    /// another method; else REST when the table holds only REST routes; else HTTP.
    pub fn api_for_miss(&self, raw_path: &str) -> ApiKind {
        let segments = path::request_segments(raw_path);
        let by_path = self
            .routes
            .iter()
            .filter(|c| c.pattern != Pattern::Default)
            .find(|c| path::match_segments(&c.pattern, &segments).is_some());
        if let Some(c) = by_path {
            return c.route.api;
        }
        let only_rest =
            !self.routes.is_empty() && self.routes.iter().all(|c| c.route.api == ApiKind::Rest);
        if only_rest {
            ApiKind::Rest
        } else {
            ApiKind::Http {
                payload: PayloadVersion::V2,
            }
        }
    }
}

fn conflict(new: &Route, existing: &Route) -> RouteError {
    RouteError::Conflict {
        route_key: new.route_key.clone(),
        owner: new.owner.clone(),
        existing_route_key: existing.route_key.clone(),
        existing_owner: existing.owner.clone(),
    }
}

/// Orders routes most specific first; ties keep a stable order by route key and owner so
/// matching never depends on insertion order.
fn sort(routes: &mut [Compiled]) {
    routes.sort_by(|a, b| {
        a.pattern
            .precedence()
            .cmp(&b.pattern.precedence())
            .then_with(|| (a.route.method == "ANY").cmp(&(b.route.method == "ANY")))
            .then_with(|| a.route.route_key.cmp(&b.route.route_key))
            .then_with(|| a.route.owner.cmp(&b.route.owner))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: ApiKind = ApiKind::Http {
        payload: PayloadVersion::V2,
    };

    fn target(f: &str) -> Target {
        Target {
            function: f.to_string(),
            qualifier: None,
        }
    }

    fn route(api: ApiKind, method: &str, path: &str, f: &str, owner: &str) -> Route {
        Route::new(api, method, path, target(f), owner).expect("valid route")
    }

    fn table(routes: &[(&str, &str, &str)]) -> RouteTable {
        let mut t = RouteTable::new();
        for (m, p, f) in routes {
            t.insert(route(HTTP, m, p, f, "stack")).expect("insert");
        }
        t
    }

    fn hit(t: &RouteTable, method: &str, path: &str) -> Option<String> {
        t.match_request(method, path)
            .map(|(r, _)| r.target.function.clone())
    }

    #[test]
    fn precedence_table() {
        // API Gateway's documented example, plus method and parameter cases.
        let t = table(&[
            ("GET", "/pets/dog/1", "exact"),
            ("GET", "/pets/dog/{id}", "param"),
            ("GET", "/pets/{proxy+}", "pets-greedy"),
            ("ANY", "/{proxy+}", "root-greedy"),
            ("ANY", "$default", "default"),
            ("ANY", "/pets/dog/{id}", "param-any"),
            ("POST", "/a/{x}/c", "left-literal"),
            ("POST", "/{y}/b/c", "left-param"),
        ]);
        let cases = [
            ("GET", "/pets/dog/1", "exact"),
            ("GET", "/pets/dog/2", "param"),
            ("POST", "/pets/dog/2", "param-any"),
            ("GET", "/pets/cat/1", "pets-greedy"),
            ("GET", "/pets/cat", "pets-greedy"),
            ("POST", "/pets/cat/1", "root-greedy"),
            ("GET", "/pets", "root-greedy"),
            ("GET", "/", "default"),
            ("POST", "/a/b/c", "left-literal"),
            ("POST", "/z/b/c", "left-param"),
            ("HEAD", "/pets/dog/1", "param-any"),
        ];
        for (m, p, want) in cases {
            assert_eq!(hit(&t, m, p).as_deref(), Some(want), "{m} {p}");
        }
    }

    #[test]
    fn head_does_not_fall_back_to_get() {
        let t = table(&[("GET", "/hello", "get")]);
        assert_eq!(hit(&t, "HEAD", "/hello"), None);
        assert_eq!(hit(&t, "GET", "/hello").as_deref(), Some("get"));
    }

    #[test]
    fn path_parameters_are_decoded_and_greedy_keeps_the_rest() {
        let t = table(&[
            ("GET", "/hello/{name}", "a"),
            ("GET", "/files/{proxy+}", "b"),
        ]);
        let (_, p) = t
            .match_request("GET", "/hello/J%C3%BCrgen%20X")
            .expect("match");
        assert_eq!(p.get("name").map(String::as_str), Some("Jürgen X"));
        let (_, p) = t
            .match_request("GET", "/files/a/b%2Fc/d.txt")
            .expect("match");
        assert_eq!(p.get("proxy").map(String::as_str), Some("a/b/c/d.txt"));
        // A literal route matches the decoded segment.
        let t = table(&[("GET", "/caf\u{e9}", "c")]);
        assert_eq!(hit(&t, "GET", "/caf%C3%A9").as_deref(), Some("c"));
        // A trailing slash is the same resource; an empty segment matches no parameter.
        let t = table(&[("GET", "/hello/{name}", "a")]);
        assert_eq!(hit(&t, "GET", "/hello/bob/").as_deref(), Some("a"));
        assert_eq!(hit(&t, "GET", "/hello//"), None);
    }

    #[test]
    fn root_route_and_greedy_needs_a_segment() {
        let t = table(&[("GET", "/", "root"), ("GET", "/{proxy+}", "greedy")]);
        assert_eq!(hit(&t, "GET", "/").as_deref(), Some("root"));
        assert_eq!(hit(&t, "GET", "/x").as_deref(), Some("greedy"));
    }

    #[test]
    fn another_owner_conflicts_and_the_error_names_both() {
        let mut t = RouteTable::new();
        t.insert(route(HTTP, "GET", "/a/{x}", "f", "stack-one"))
            .expect("first");
        let err = t
            .insert(route(HTTP, "get", "/a/{y}", "g", "stack-two"))
            .expect_err("conflict");
        let msg = err.to_string();
        assert!(
            msg.contains("stack-one") && msg.contains("stack-two"),
            "{msg}"
        );
        // A different method is no conflict; the same owner replaces.
        t.insert(route(HTTP, "POST", "/a/{y}", "g", "stack-two"))
            .expect("other method");
        t.insert(route(HTTP, "GET", "/a/{z}", "h", "stack-one"))
            .expect("same owner replaces");
        assert_eq!(t.len(), 2);
        assert_eq!(hit(&t, "GET", "/a/1").as_deref(), Some("h"));
        // Two $default routes conflict whatever their methods.
        t.insert(route(HTTP, "ANY", "$default", "d", "stack-one"))
            .expect("default");
        assert!(matches!(
            t.insert(route(HTTP, "GET", "$default", "e", "stack-two")),
            Err(RouteError::Conflict { .. })
        ));
    }

    #[test]
    fn replace_owner_is_all_or_nothing() {
        let mut t = RouteTable::new();
        t.replace_owner("one", vec![route(HTTP, "GET", "/a", "a1", "")])
            .expect("one");
        t.replace_owner(
            "two",
            vec![
                route(HTTP, "GET", "/b", "b1", ""),
                route(HTTP, "GET", "/c", "c1", ""),
            ],
        )
        .expect("two");
        // A conflicting batch changes nothing.
        let err = t
            .replace_owner(
                "two",
                vec![
                    route(HTTP, "GET", "/d", "d2", ""),
                    route(HTTP, "GET", "/a", "a2", ""),
                ],
            )
            .expect_err("conflict with one");
        assert!(matches!(err, RouteError::Conflict { .. }));
        assert_eq!(hit(&t, "GET", "/b").as_deref(), Some("b1"));
        assert_eq!(hit(&t, "GET", "/d"), None);
        // A duplicate inside one batch is refused too.
        assert!(matches!(
            t.replace_owner(
                "two",
                vec![
                    route(HTTP, "GET", "/x/{a}", "x", ""),
                    route(HTTP, "GET", "/x/{b}", "y", ""),
                ]
            ),
            Err(RouteError::Duplicate { .. })
        ));
        // A valid batch swaps the stack's routes.
        t.replace_owner("two", vec![route(HTTP, "GET", "/d", "d2", "")])
            .expect("swap");
        assert_eq!(hit(&t, "GET", "/b"), None);
        assert_eq!(hit(&t, "GET", "/d").as_deref(), Some("d2"));
        assert_eq!(hit(&t, "GET", "/a").as_deref(), Some("a1"));
        assert_eq!(t.remove_owner("one"), 1);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn bad_routes_are_refused() {
        let bad = |api, m: &str, p: &str| Route::new(api, m, p, target("f"), "s").is_err();
        assert!(bad(HTTP, "FETCH", "/a"));
        assert!(bad(HTTP, "GET", "a"));
        assert!(bad(HTTP, "GET", "/{proxy+}/x"));
        assert!(bad(HTTP, "GET", "/{}"));
        assert!(bad(HTTP, "GET", "/a//b"));
        assert!(bad(HTTP, "GET", "/{a b}"));
        assert!(bad(ApiKind::Rest, "ANY", "$default"));
        assert!(!bad(ApiKind::Rest, "ANY", "/{proxy+}"));
    }

    #[test]
    fn misses_pick_the_api_that_would_answer() {
        let mut t = RouteTable::new();
        assert!(matches!(t.api_for_miss("/x"), ApiKind::Http { .. }));
        t.insert(route(ApiKind::Rest, "GET", "/r", "f", "s"))
            .expect("rest");
        assert_eq!(t.api_for_miss("/nothing"), ApiKind::Rest);
        t.insert(route(HTTP, "GET", "/h", "f", "s")).expect("http");
        assert_eq!(t.api_for_miss("/r"), ApiKind::Rest);
        assert!(matches!(t.api_for_miss("/nothing"), ApiKind::Http { .. }));
    }

    #[test]
    fn route_keys() {
        assert_eq!(
            route(HTTP, "get", "/hello/{name}", "f", "s").route_key,
            "GET /hello/{name}"
        );
        assert_eq!(
            route(HTTP, "ANY", "$default", "f", "s").route_key,
            "$default"
        );
    }
}
