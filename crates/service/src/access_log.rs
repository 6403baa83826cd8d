//! Request logging and tracing both services use. Every request gets an id
//! (tracing-actix-web's `RequestId`), a root span carrying it, and the id echoed in
//! the `x-request-id` response header, so a failure a person reports can be found in
//! the logs. The access line says method, path, status and duration. Never the
//! query string, which can carry OAuth codes and state, login tickets or the webhook
//! verify token: that is why the root span is ours and records the path only.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Logger, Next};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder, TracingLogger};

/// The response header that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Logs one line per request, leaving out `/healthz` (probes hit it constantly).
pub fn access_log() -> Logger {
    Logger::new("%{method}xi %U %s %Dms")
        .custom_request_replace("method", |req| req.method().to_string())
        .exclude("/healthz")
}

/// The outermost middleware: gives each request its id and root span.
pub fn request_tracing() -> TracingLogger<RequestSpan> {
    TracingLogger::new()
}

/// The root span of a request: method, path and request id; the status is recorded
/// when the response is ready.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

/// Copies the request id into the response (register it inside [`request_tracing`],
/// i.e. with `.wrap` before it).
pub async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, test, web};

    #[actix_web::test]
    async fn every_response_carries_its_own_request_id() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(echo_request_id))
                .wrap(request_tracing())
                .route("/x", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let res = test::call_service(
                &app,
                test::TestRequest::get().uri("/x?code=secret").to_request(),
            )
            .await;
            assert!(res.status().is_success());
            let id = res.headers().get(REQUEST_ID_HEADER).expect("x-request-id");
            ids.push(id.to_str().unwrap().to_owned());
        }
        assert_eq!(ids[0].len(), 36, "a UUID: {}", ids[0]);
        assert_ne!(ids[0], ids[1]);
    }
}
