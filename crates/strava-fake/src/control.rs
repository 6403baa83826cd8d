//! The control API under `/_fake` (JSON in, JSON out) for the standalone binary and
//! for tools other than Rust tests, plus the settings operations the Rust handle
//! shares with it. Control calls are not counted, logged, rate limited or faulted.

use crate::config::{RateLimits, WebhookConfig};
use crate::gate::{Fault, FaultKind};
use crate::json::ApiError;
use crate::model::{ActivityUpdate, AuthorizeMode, FakeError, NewActivity, NewAthlete};
use crate::seed::SeedFile;
use crate::state::{Clock, Shared};
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Json, Path};
use actix_web::{HttpResponse, Scope};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{ActivityId, AthleteId};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

impl From<FakeError> for ApiError {
    fn from(e: FakeError) -> Self {
        let (status, code) = match e {
            FakeError::UnknownAthlete(_) | FakeError::UnknownActivity(_) => {
                (StatusCode::NOT_FOUND, "not found")
            }
            FakeError::Duplicate(_) => (StatusCode::CONFLICT, "already exists"),
            FakeError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
        };
        let mut err = ApiError::new(status, &e.to_string(), "Fake", "", code);
        err.body["message"] = json!(e.to_string());
        err
    }
}

impl Shared {
    /// Arms a fault for the next `count` requests under `path_prefix`.
    pub fn add_fault(&self, kind: FaultKind, count: u32, path_prefix: Option<String>) {
        if count > 0 {
            self.lock().faults.push(Fault {
                kind,
                remaining: count,
                path_prefix,
            });
        }
    }

    /// Moves the clock: `now` freezes it there (`None` follows real time again),
    /// then `advance` is added on top. Times outside years 1970..=9999 are refused.
    pub fn set_clock(
        &self,
        now: Option<Option<DateTime<Utc>>>,
        advance: TimeDelta,
    ) -> Result<(), FakeError> {
        let mut st = self.lock();
        let (frozen, offset) = match now {
            Some(now) => (now, TimeDelta::zero()),
            None => (st.clock.frozen, st.clock.offset),
        };
        let out_of_range = || FakeError::Invalid("clock out of range".into());
        let offset = offset.checked_add(&advance).ok_or_else(out_of_range)?;
        st.clock = Clock::checked(frozen, offset).ok_or_else(out_of_range)?;
        Ok(())
    }

    /// Makes access tokens (of one athlete, or all) expired right now.
    pub fn expire_access_tokens(&self, athlete: Option<AthleteId>) {
        let mut st = self.lock();
        let now = st.now().timestamp();
        for g in st.access_tokens.values_mut() {
            if athlete.is_none_or(|a| a == g.athlete) {
                g.expires_at = g.expires_at.min(now);
            }
        }
    }
}

/// The `/_fake` scope.
pub fn scope() -> Scope {
    web::scope("/_fake")
        .app_data(
            web::JsonConfig::default()
                .limit(64 << 20)
                .error_handler(|err, _| {
                    ApiError::bad_request("Request", "body", &err.to_string()).into()
                }),
        )
        .route("/state", web::get().to(state))
        .route("/athletes", web::get().to(athletes))
        .route("/athletes", web::post().to(add_athlete))
        .route("/athletes/{id}/generate", web::post().to(generate))
        .route("/athletes/{id}/activities", web::post().to(upload))
        .route("/athletes/{id}/deauthorize", web::post().to(deauthorize))
        .route("/athletes/{id}/tokens", web::post().to(tokens))
        .route("/activities/{id}", web::patch().to(update))
        .route("/activities/{id}", web::delete().to(delete))
        .route("/authorize", web::put().to(set_authorize))
        .route("/login", web::put().to(set_login))
        .route("/short_pages", web::put().to(set_short_pages))
        .route("/rate_limits", web::get().to(rate_limits))
        .route("/rate_limits", web::put().to(set_rate_limits))
        .route("/rate_limits/reset", web::post().to(reset_rate_limits))
        .route("/faults", web::post().to(add_fault))
        .route("/faults", web::get().to(faults))
        .route("/faults", web::delete().to(clear_faults))
        .route("/clock", web::get().to(clock))
        .route("/clock", web::put().to(set_clock))
        .route("/tokens/expire", web::post().to(expire_tokens))
        .route("/token_ttl", web::put().to(set_token_ttl))
        .route("/webhook", web::put().to(set_webhook))
        .route("/requests", web::get().to(requests))
        .route("/deliveries", web::get().to(deliveries))
        .route("/seed", web::post().to(seed))
}

type Answer = Result<HttpResponse, ApiError>;

fn athlete_id(path: &str) -> Result<AthleteId, ApiError> {
    path.parse()
        .map_err(|_| ApiError::not_found("Athlete", "id"))
}

fn activity_id(path: &str) -> Result<ActivityId, ApiError> {
    path.parse()
        .map_err(|_| ApiError::not_found("Activity", "id"))
}

async fn state(shared: Data<Shared>) -> Answer {
    let mut st = shared.lock();
    let now = st.now();
    let usage = st.rate.usage(now);
    Ok(HttpResponse::Ok().json(json!({
        "client_id": shared.client_id,
        "now": now,
        "athletes": st.athletes.values().map(|a| json!({
            "id": a.id,
            "firstname": a.firstname,
            "activities": st.activities.values().filter(|s| s.activity.athlete_id == a.id).count(),
        })).collect::<Vec<_>>(),
        "activity_count": st.activities.len(),
        "subscription": st.subscription,
        "authorize": st.authorize,
        "login_athlete": st.login_athlete,
        "short_pages": st.short_pages,
        "rate_limits": st.rate.limits,
        "rate_usage": usage,
        "request_count": st.request_count,
        "deliveries": st.deliveries.len(),
    })))
}

async fn athletes(shared: Data<Shared>) -> Answer {
    let st = shared.lock();
    Ok(HttpResponse::Ok().json(st.athletes.values().collect::<Vec<_>>()))
}

async fn add_athlete(shared: Data<Shared>, body: Json<NewAthlete>) -> Answer {
    let a = shared.add_athlete(body.into_inner())?;
    Ok(HttpResponse::Created().json(a))
}

#[derive(Deserialize)]
struct Count {
    count: usize,
}

async fn generate(shared: Data<Shared>, path: Path<String>, body: Json<Count>) -> Answer {
    let ids = shared.generate_activities(athlete_id(&path)?, body.count)?;
    Ok(HttpResponse::Ok().json(json!({"count": ids.len(), "ids": ids})))
}

async fn upload(shared: Data<Shared>, path: Path<String>, body: Json<NewActivity>) -> Answer {
    let id = shared.upload_activity(athlete_id(&path)?, body.into_inner())?;
    Ok(HttpResponse::Created().json(json!({"id": id})))
}

async fn deauthorize(shared: Data<Shared>, path: Path<String>) -> Answer {
    shared.deauthorize_athlete(athlete_id(&path)?)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct ScopeBody {
    #[serde(default = "default_scope")]
    scope: String,
}

fn default_scope() -> String {
    "read,activity:read_all,profile:read_all".into()
}

async fn tokens(shared: Data<Shared>, path: Path<String>, body: Json<ScopeBody>) -> Answer {
    let pair = shared
        .issue_tokens_for(athlete_id(&path)?, &body.scope)
        .map_err(|e| ApiError::from(FakeError::Invalid(e)))?;
    Ok(HttpResponse::Ok().json(pair))
}

async fn update(shared: Data<Shared>, path: Path<String>, body: Json<ActivityUpdate>) -> Answer {
    shared.update_activity(activity_id(&path)?, body.into_inner())?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(shared: Data<Shared>, path: Path<String>) -> Answer {
    shared.delete_activity(activity_id(&path)?)?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_authorize(shared: Data<Shared>, body: Json<AuthorizeMode>) -> Answer {
    shared.lock().authorize = body.into_inner();
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct Login {
    athlete_id: Option<AthleteId>,
}

async fn set_login(shared: Data<Shared>, body: Json<Login>) -> Answer {
    shared.lock().login_athlete = body.athlete_id;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct ShortPages {
    max: Option<usize>,
}

async fn set_short_pages(shared: Data<Shared>, body: Json<ShortPages>) -> Answer {
    shared.lock().short_pages = body.max;
    Ok(HttpResponse::NoContent().finish())
}

async fn rate_limits(shared: Data<Shared>) -> Answer {
    let mut st = shared.lock();
    let now = st.now();
    let usage = st.rate.usage(now);
    Ok(HttpResponse::Ok().json(json!({"limits": st.rate.limits, "usage": usage})))
}

/// Body: a limits object, or `null` to turn limits off.
async fn set_rate_limits(shared: Data<Shared>, body: Json<Option<RateLimits>>) -> Answer {
    shared.lock().rate.limits = body.into_inner();
    Ok(HttpResponse::NoContent().finish())
}

async fn reset_rate_limits(shared: Data<Shared>) -> Answer {
    shared.lock().rate.reset();
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct FaultBody {
    kind: String,
    #[serde(default = "one")]
    count: u32,
    status: Option<u16>,
    millis: Option<u64>,
    path_prefix: Option<String>,
}

fn one() -> u32 {
    1
}

async fn add_fault(shared: Data<Shared>, body: Json<FaultBody>) -> Answer {
    let b = body.into_inner();
    let kind = match b.kind.as_str() {
        "fail" => FaultKind::Fail {
            status: b.status.unwrap_or(500),
        },
        "delay" => FaultKind::Delay {
            millis: b.millis.unwrap_or(2500),
        },
        _ => return Err(ApiError::bad_request("Fault", "kind", "invalid")),
    };
    shared.add_fault(kind, b.count, b.path_prefix);
    Ok(HttpResponse::NoContent().finish())
}

async fn faults(shared: Data<Shared>) -> Answer {
    Ok(HttpResponse::Ok().json(&shared.lock().faults))
}

async fn clear_faults(shared: Data<Shared>) -> Answer {
    shared.lock().faults.clear();
    Ok(HttpResponse::NoContent().finish())
}

async fn clock(shared: Data<Shared>) -> Answer {
    let st = shared.lock();
    Ok(HttpResponse::Ok().json(json!({"now": st.now(), "frozen": st.clock.frozen.is_some()})))
}

#[derive(Deserialize)]
struct ClockBody {
    /// Absent: keep; `null`: real time; a date: freeze there.
    #[serde(default, deserialize_with = "some")]
    now: Option<Option<DateTime<Utc>>>,
    #[serde(default)]
    advance_secs: i64,
}

fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

async fn set_clock(shared: Data<Shared>, body: Json<ClockBody>) -> Answer {
    let advance = TimeDelta::try_seconds(body.advance_secs)
        .ok_or_else(|| ApiError::bad_request("Clock", "advance_secs", "invalid"))?;
    shared.set_clock(body.now, advance)?;
    clock(shared).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExpireBody {
    athlete_id: Option<AthleteId>,
}

async fn expire_tokens(shared: Data<Shared>, body: Option<Json<ExpireBody>>) -> Answer {
    shared.expire_access_tokens(body.and_then(|b| b.into_inner().athlete_id));
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct Ttl {
    secs: u64,
}

async fn set_token_ttl(shared: Data<Shared>, body: Json<Ttl>) -> Answer {
    shared.lock().token_ttl = Duration::from_secs(body.secs);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct WebhookBody {
    attempts: Option<u32>,
    timeout_ms: Option<u64>,
    retry_delay_ms: Option<u64>,
}

async fn set_webhook(shared: Data<Shared>, body: Json<WebhookBody>) -> Answer {
    let mut st = shared.lock();
    let old = st.webhook;
    st.webhook = WebhookConfig {
        attempts: body.attempts.unwrap_or(old.attempts),
        timeout: body.timeout_ms.map_or(old.timeout, Duration::from_millis),
        retry_delay: body
            .retry_delay_ms
            .map_or(old.retry_delay, Duration::from_millis),
    };
    Ok(HttpResponse::NoContent().finish())
}

async fn requests(shared: Data<Shared>) -> Answer {
    Ok(HttpResponse::Ok().json(&shared.lock().requests))
}

async fn deliveries(shared: Data<Shared>) -> Answer {
    Ok(HttpResponse::Ok().json(&shared.lock().deliveries))
}

async fn seed(shared: Data<Shared>, body: Json<SeedFile>) -> Answer {
    let ids = shared.seed(body.into_inner())?;
    Ok(HttpResponse::Ok().json(json!({"athletes": ids})))
}
