//! The access log both services write: method, path, status and duration. Never the
//! query string, which can carry OAuth codes and state, login tickets or the webhook
//! verify token.

use actix_web::middleware::Logger;

/// Logs one line per request, leaving out `/healthz` (probes hit it constantly).
pub fn access_log() -> Logger {
    Logger::new("%{method}xi %U %s %Dms")
        .custom_request_replace("method", |req| req.method().to_string())
        .exclude("/healthz")
}
