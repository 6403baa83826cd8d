//! The middleware every non-control request passes: it counts and logs requests,
//! applies injected faults (errors, delays), and enforces the rate limits on
//! `/api/...` paths, adding Strava's usage headers to every API response.

use crate::json::ApiError;
use crate::model::RecordedRequest;
use crate::state::Shared;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status (500 unless told) and do nothing else.
    Fail {
        /// HTTP status.
        status: u16,
    },
    /// Wait this long, then serve the request normally.
    Delay {
        /// Milliseconds.
        millis: u64,
    },
}

/// A fault armed for the next `remaining` matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many more requests it hits.
    pub remaining: u32,
    /// Only paths starting with this; `None` matches everything but `/_fake`.
    pub path_prefix: Option<String>,
}

/// Uses up one hit of the first fault that matches `path`.
fn take_fault(faults: &mut Vec<Fault>, path: &str) -> Option<FaultKind> {
    let i = faults.iter().position(|f| {
        f.remaining > 0 && f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
    })?;
    let kind = faults[i].kind;
    faults[i].remaining -= 1;
    if faults[i].remaining == 0 {
        faults.remove(i);
    }
    Some(kind)
}

/// The middleware function (wrapped with `actix_web::middleware::from_fn`).
pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let shared = match req.app_data::<Data<Shared>>() {
        Some(s) if !req.path().starts_with("/_fake") => s.clone(),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let method = req.method().as_str().to_string();
    let path = req.path().to_string();
    let query = req.query_string().to_string();
    let fault = {
        let mut st = shared.lock();
        st.request_count += 1;
        take_fault(&mut st.faults, &path)
    };
    let res = match fault {
        Some(FaultKind::Fail { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = status.canonical_reason().unwrap_or("Error");
            req.into_response(
                HttpResponse::build(status).json(json!({"message": message, "errors": []})),
            )
        }
        other => {
            if let Some(FaultKind::Delay { millis }) = other {
                actix_web::rt::time::sleep(Duration::from_millis(millis)).await;
            }
            // OAuth calls are not API calls, even under the /api/v3 alias.
            if path.starts_with("/api/") && !path.starts_with("/api/v3/oauth/") {
                let decision = {
                    let mut st = shared.lock();
                    let now = st.now();
                    st.rate.count(now, method == "GET")
                };
                let mut res = if decision.allowed {
                    next.call(req).await?.map_into_boxed_body()
                } else {
                    req.into_response(ApiError::rate_limited().error_response())
                };
                for (name, value) in decision.headers {
                    if let (Ok(n), Ok(v)) = (
                        HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(&value),
                    ) {
                        res.headers_mut().insert(n, v);
                    }
                }
                res
            } else {
                next.call(req).await?.map_into_boxed_body()
            }
        }
    };
    shared.lock().log_request(RecordedRequest {
        method,
        path,
        query,
        status: res.status().as_u16(),
    });
    Ok(res)
}
