//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tracing::Instrument;
use utoipa::ToSchema;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AlpacaErrorBody, ApiError};
use crate::state::AppState;

/// The health checks, each registered with its description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The operations endpoints that are not JSON APIs, and so stay out of the OpenAPI
/// document as plain routes: `/metrics` answers Prometheus' text format, and
/// `/openapi.json` is the document itself, which describing would tell its reader
/// nothing. `doc` is built once, by the caller; every request serializes the same one.
pub fn plain_router(doc: Arc<OpenApi>) -> Router<AppState> {
    Router::new().route("/metrics", get(metrics)).route(
        "/openapi.json",
        get(move || {
            let doc = Arc::clone(&doc);
            async move { Json(doc.as_ref()).into_response() }
        }),
    )
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Operations",
    summary = "Liveness",
    responses((status = 200, description = "The process is up", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "Operations",
    summary = "Readiness",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = AlpacaErrorBody),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Health { status: "ok" })),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            Err(ApiError::Alpaca {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "the database does not answer".into(),
                challenge: None,
                retry_after: None,
            })
        }
    }
}

async fn metrics() -> impl IntoResponse {
    let handle = prometheus();
    handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
}

const REQUEST_SECONDS: &str = "paddock_http_request_duration_seconds";

/// The process-wide Prometheus recorder (a process has one global recorder, whatever
/// number of servers it runs, as the tests do).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets_for_metric(
                Matcher::Full(REQUEST_SECONDS.into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        handle
    })
}

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// Counts, times and logs every request once, by route template (never the raw path,
/// which may hold a token, nor any header or body), under a request id: the caller's
/// `X-Request-Id` when it is a plausible id, else a new one. The id is sent back, and
/// every log line written while handling the request carries it.
pub async fn track(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| plausible_request_id(id))
        .map_or_else(new_request_id, str::to_owned);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(request).instrument(span).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        request_id = %request_id,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("paddock_http_requests_total", &labels).increment(1);
    metrics::histogram!(REQUEST_SECONDS, &labels).record(elapsed.as_secs_f64());
    response
}

/// A fresh request id, 32 hex characters: a random number drawn once per process (so
/// that nodes do not collide) and a counter. Drawing randomness for every request cost a
/// system call on the hot path of every request.
fn new_request_id() -> String {
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let process = *PROCESS.get_or_init(rand::random);
    format!(
        "{process:016x}{:016x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An id a proxy or client may pass on: short (a UUID fits, a token does not), only
/// characters that cannot forge a log line, and never one of our tokens or codes.
fn plausible_request_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && !id.starts_with("pdk_")
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The method as a metrics label: any method a client invents is `OTHER`, so that
/// labels (and the memory each costs) stay bounded.
fn method_label(method: &Method) -> String {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if KNOWN.contains(method) {
        method.as_str().to_owned()
    } else {
        "OTHER".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_never_taken_as_a_request_id() {
        assert!(plausible_request_id("6f1c2d9e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"));
        assert!(!plausible_request_id(
            "pdk_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
        assert!(!plausible_request_id("pdk_ac_short"));
        assert!(!plausible_request_id("a b"));
        assert!(!plausible_request_id(&"a".repeat(41)));
    }

    #[test]
    fn request_ids_are_unique_and_plausible() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(plausible_request_id(&a));
    }

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
    }
}
