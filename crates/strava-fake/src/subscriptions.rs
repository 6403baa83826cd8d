//! `/api/v3/push_subscriptions`: create (after a successful GET handshake with the
//! callback), view and delete. One subscription per application, as on Strava.

use crate::json::{ApiError, iso};
use crate::params::{Params, with_query};
use crate::state::{Shared, Subscription, random_token};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

fn check_app(shared: &Shared, p: &Params) -> Result<(), ApiError> {
    let id = p.get("client_id").unwrap_or("");
    let secret = p.get("client_secret").unwrap_or("");
    if shared.app_matches(id, secret) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "Application",
            "client_id",
            "invalid",
        ))
    }
}

fn callback_error(code: &str) -> ApiError {
    ApiError::bad_request("PushSubscription", "callback url", code)
}

/// `POST /api/v3/push_subscriptions`.
pub async fn create(
    req: HttpRequest,
    body: Bytes,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::read(&req, &body)?;
    check_app(&shared, &p)?;
    let callback = p.require("PushSubscription", "callback_url")?.to_string();
    let verify_token = p.require("PushSubscription", "verify_token")?.to_string();
    if !(callback.starts_with("http://") || callback.starts_with("https://")) {
        return Err(ApiError::bad_request(
            "PushSubscription",
            "callback url",
            "invalid",
        ));
    }
    let already = || ApiError::bad_request("PushSubscription", "", "already exists");
    if shared.lock().subscription.is_some() {
        return Err(already());
    }
    handshake(&shared, &callback, &verify_token).await?;
    let mut st = shared.lock();
    // Checked again: another create may have won while we were out on the handshake.
    if st.subscription.is_some() {
        return Err(already());
    }
    st.next_subscription_id += 1;
    let created = Subscription {
        id: st.next_subscription_id,
        callback_url: callback,
        created_at: st.now(),
    };
    let body = subscription_json(&shared, &created);
    st.subscription = Some(created);
    Ok(HttpResponse::Created().json(body))
}

/// The push subscription object, as creating and viewing return it.
fn subscription_json(shared: &Shared, s: &Subscription) -> serde_json::Value {
    json!({
        "id": s.id,
        "resource_state": 2,
        "application_id": shared.client_id.parse::<i64>().unwrap_or(0),
        "callback_url": s.callback_url,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
    })
}

/// Strava's verification: GET the callback with a challenge and expect it echoed as
/// `{"hub.challenge": …}` with status 200 within the time limit.
async fn handshake(shared: &Shared, callback: &str, verify_token: &str) -> Result<(), ApiError> {
    let challenge = random_token();
    let url = with_query(
        callback,
        &[
            ("hub.verify_token", verify_token),
            ("hub.challenge", &challenge),
            ("hub.mode", "subscribe"),
        ],
    );
    let response = shared
        .http
        .get(&url)
        .timeout(shared.handshake_timeout)
        .send()
        .await
        .map_err(|_| callback_error("GET to callback URL does not return 200"))?;
    if response.status().as_u16() != 200 {
        return Err(callback_error("GET to callback URL does not return 200"));
    }
    let echoed: serde_json::Value = response
        .json()
        .await
        .map_err(|_| callback_error("callback URL did not echo hub.challenge"))?;
    if echoed.get("hub.challenge").and_then(|v| v.as_str()) != Some(challenge.as_str()) {
        return Err(callback_error("callback URL did not echo hub.challenge"));
    }
    Ok(())
}

/// `GET /api/v3/push_subscriptions?client_id&client_secret`.
pub async fn view(
    req: HttpRequest,
    body: Bytes,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::read(&req, &body)?;
    check_app(&shared, &p)?;
    let st = shared.lock();
    let list: Vec<_> = st
        .subscription
        .iter()
        .map(|s| subscription_json(&shared, s))
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// `DELETE /api/v3/push_subscriptions/{id}?client_id&client_secret`.
pub async fn delete(
    req: HttpRequest,
    path: Path<String>,
    body: Bytes,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::read(&req, &body)?;
    check_app(&shared, &p)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "Resource Not Found",
            "PushSubscription",
            "id",
            "not found",
        )
    };
    let id: i64 = path.parse().map_err(|_| not_found())?;
    let mut st = shared.lock();
    match &st.subscription {
        Some(s) if s.id == id => {
            st.subscription = None;
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(not_found()),
    }
}
