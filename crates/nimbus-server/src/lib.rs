//! The HTTP front door: every API on one listener, told apart by path (Lambda's REST-JSON
//! control plane and Invoke) and by `X-Amz-Target` (CloudWatch Logs, JSON 1.1).
//!
//! Handlers parse and render only; rules live in `nimbus_platform`. Every error leaves
//! through [`error::ApiError`] / [`error::LogsApiError`] in AWS's wire shape.

#![forbid(unsafe_code)]

mod async_invoke;
pub mod body;
mod console;
mod control;
mod cost;
mod deployments;
pub mod error;
mod event_sources;
mod extract;
mod function_urls;
pub mod gateway;
mod invoke;
mod lint;
pub mod listener;
mod logs;
mod metrics;
mod sqs;
mod stacks;
mod versions;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use nimbus_platform::Platform;
use std::sync::Arc;

pub use deployments::manual_clock_router;

pub use gateway::gateway_router;

/// Shared state of every handler.
pub(crate) type AppState = Arc<Platform>;

/// All routes.
pub fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(
            "/2015-03-31/functions",
            post(control::create_function).get(control::list_functions),
        )
        .route(
            "/2015-03-31/functions/{name}",
            get(control::get_function).delete(control::delete_function),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(control::get_function_configuration).put(control::update_function_configuration),
        )
        .route(
            "/2015-03-31/functions/{name}/code",
            put(control::update_function_code),
        )
        .route(
            "/2015-03-31/functions/{name}/invocations",
            post(invoke::invoke),
        )
        .route(
            "/2015-03-31/functions/{name}/versions",
            post(versions::publish_version).get(versions::list_versions),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases",
            post(versions::create_alias).get(versions::list_aliases),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(versions::get_alias)
                .put(versions::update_alias)
                .delete(versions::delete_alias),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            put(versions::put_function_concurrency).delete(versions::delete_function_concurrency),
        )
        .route(
            "/2019-09-30/functions/{name}/concurrency",
            get(versions::get_function_concurrency),
        )
        .route(
            "/2019-09-30/functions/{name}/provisioned-concurrency",
            put(versions::put_provisioned)
                .get(versions::get_provisioned)
                .delete(versions::delete_provisioned),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config",
            put(async_invoke::put_config)
                .post(async_invoke::update_config)
                .get(async_invoke::get_config)
                .delete(async_invoke::delete_config),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config/list",
            get(async_invoke::list_configs),
        )
        .route(
            "/2015-03-31/event-source-mappings/",
            post(event_sources::create).get(event_sources::list),
        )
        .route(
            "/2015-03-31/event-source-mappings",
            post(event_sources::create).get(event_sources::list),
        )
        .route(
            "/2015-03-31/event-source-mappings/{uuid}",
            get(event_sources::get)
                .put(event_sources::update)
                .delete(event_sources::delete),
        )
        .route(
            "/2021-10-31/functions/{name}/url",
            post(function_urls::create)
                .get(function_urls::get)
                .put(function_urls::update)
                .delete(function_urls::delete),
        )
        .route(
            "/2021-10-31/functions/{name}/urls",
            get(function_urls::list),
        )
        .route("/nimbus/v1/stats", get(versions::stats))
        .route("/nimbus/v1/cost", get(cost::cost))
        .route("/nimbus/v1/lint", get(lint::lint))
        .route(
            "/nimbus/v1/cost/crossover",
            get(cost::crossover).post(cost::crossover_post),
        )
        .route("/nimbus/v1/metering", get(cost::metering))
        .route("/nimbus/v1/async-events", get(async_invoke::event_counts))
        .route("/nimbus/v1/async-events/{id}", get(async_invoke::event))
        .route(
            "/2016-08-19/account-settings",
            get(control::account_settings),
        )
        .route(
            "/2016-08-19/account-settings/",
            get(control::account_settings),
        )
        .route("/nimbus/v1/code/{file}", get(control::download_code))
        .route("/nimbus/v1/code", post(stacks::upload_code))
        .route("/nimbus/v1/info", get(stacks::info))
        .route("/console", get(console::root))
        .route("/console/", get(console::index))
        .route("/console/console.js", get(console::script))
        .route("/console/console.css", get(console::style))
        .route("/nimbus/v1/console/series", get(console::series))
        .route("/nimbus/v1/stacks", get(stacks::list))
        .route("/nimbus/v1/schedules", get(stacks::schedules))
        .route(
            "/nimbus/v1/stacks/{name}",
            get(stacks::get).put(stacks::deploy).delete(stacks::delete),
        )
        .route(
            "/nimbus/v1/deployments",
            get(deployments::list).post(deployments::start),
        )
        .route("/nimbus/v1/deployments/{id}", get(deployments::get))
        .route("/nimbus/v1/deployments/{id}/stop", post(deployments::stop))
        .merge(metrics::routes())
        .route("/", post(json_dispatch))
        .fallback(control::unknown_operation)
        .method_not_allowed_fallback(control::method_not_allowed)
        // Bodies are read by `body::read_limited` with a limit per operation.
        .layer(DefaultBodyLimit::disable())
        .with_state(platform)
}

/// `POST /` carries two JSON protocols, told apart by `X-Amz-Target`: SQS and CloudWatch Logs.
async fn json_dispatch(
    axum::extract::State(p): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if sqs::is_sqs(&headers) {
        return sqs::dispatch(p, headers, body).await;
    }
    logs::dispatch(axum::extract::State(p), headers, body)
        .await
        .into_response()
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
