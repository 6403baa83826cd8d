//! The read API StravaTalk uses: `/api/v3/athlete`, `/api/v3/athlete/activities`,
//! `/api/v3/activities/{id}` and `/api/v3/gear/{id}`, all behind a bearer token.

use crate::json::{
    ApiError, detailed_activity, detailed_athlete, detailed_gear, gear_named, summary_activity,
};
use crate::oauth::bearer;
use crate::params::Params;
use crate::state::{Grant, Shared, Stored};
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

/// Strava's page size when none is asked for.
pub const DEFAULT_PER_PAGE: i64 = 30;
/// Strava's largest page; larger requests are clamped.
pub const MAX_PER_PAGE: i64 = 200;

/// The grant behind the request's bearer token (or legacy `access_token` query value).
pub fn authenticate(req: &HttpRequest, shared: &Shared) -> Result<Grant, ApiError> {
    let token = match bearer(req) {
        Some(t) => t,
        None => Params::query(req)?
            .get("access_token")
            .map(str::to_string)
            .ok_or_else(ApiError::bad_token)?,
    };
    let st = shared.lock();
    let now = st.now().timestamp();
    match st.access_tokens.get(&token) {
        Some(g) if g.expires_at > now && st.athletes.contains_key(&g.athlete.get()) => {
            Ok(g.clone())
        }
        _ => Err(ApiError::bad_token()),
    }
}

fn activity_scope_missing() -> ApiError {
    ApiError::unauthorized("AccessToken", "activity:read_permission", "missing")
}

/// `GET /api/v3/athlete`.
pub async fn athlete(req: HttpRequest, shared: Data<Shared>) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&req, &shared)?;
    let st = shared.lock();
    let a = st
        .athlete(grant.athlete)
        .map_err(|_| ApiError::bad_token())?;
    let gear = athlete_gear(&st, grant.athlete);
    Ok(HttpResponse::Ok().json(detailed_athlete(
        a,
        grant.scopes.has("profile:read_all"),
        &gear,
    )))
}

/// The gear the athlete's activities name, each with the distance done with it, by id.
fn athlete_gear(st: &crate::state::State, athlete: domain::AthleteId) -> Vec<(domain::Gear, f64)> {
    let mut by_id: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for s in st.activities.values() {
        if s.activity.athlete_id == athlete
            && let Some(id) = s.activity.gear_id.as_deref()
        {
            *by_id.entry(id).or_default() += s.activity.distance_m;
        }
    }
    by_id
        .into_iter()
        .map(|(id, distance)| (gear_named(id), distance))
        .collect()
}

/// `GET /api/v3/gear/{id}`: DetailedGear for gear the token's athlete's activities
/// name (retired gear included); any other id is 404.
pub async fn gear(
    req: HttpRequest,
    path: Path<String>,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&req, &shared)?;
    let st = shared.lock();
    athlete_gear(&st, grant.athlete)
        .into_iter()
        .find(|(g, _)| g.id == *path)
        .map(|(g, distance)| HttpResponse::Ok().json(detailed_gear(&g, distance)))
        .ok_or_else(|| ApiError::not_found("Gear", "id"))
}

/// `GET /api/v3/athlete/activities?before&after&page&per_page`.
pub async fn list_activities(
    req: HttpRequest,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&req, &shared)?;
    if !grant.scopes.can_read_activities() {
        return Err(activity_scope_missing());
    }
    let p = Params::query(&req)?;
    let before = p.int("Activity", "before")?;
    let after = p.int("Activity", "after")?;
    let page = p.int("Activity", "page")?.unwrap_or(1).max(1);
    let per_page = match p.int("Activity", "per_page")? {
        Some(n) if n >= 1 => n.min(MAX_PER_PAGE),
        _ => DEFAULT_PER_PAGE,
    };
    let st = shared.lock();
    let include_private = grant.scopes.has("activity:read_all");
    let mut items: Vec<&Stored> = st
        .activities
        .values()
        .filter(|s| {
            let a = &s.activity;
            let t = a.start_date.timestamp();
            a.athlete_id == grant.athlete
                && (include_private || !a.private)
                && before.is_none_or(|b| t < b)
                && after.is_none_or(|x| t > x)
        })
        .collect();
    // Strava pages forward in time from `after`: oldest first, newest last.
    let ascending = st.ascending_with_after && after.is_some() && before.is_none();
    items.sort_by_key(|s| (s.activity.start_date, s.activity.id));
    if !ascending {
        items.reverse();
    }
    // Short pages shrink the effective page size, so nothing is skipped: a client
    // that stops at the first short page misses data, one that reads on to an
    // empty page gets everything.
    let size = match st.short_pages {
        Some(n) => per_page.min(i64::try_from(n).unwrap_or(i64::MAX).max(1)),
        None => per_page,
    };
    let offset = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let size = usize::try_from(size).unwrap_or(0);
    let body: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(size)
        .map(summary_activity)
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v3/activities/{id}`: only the token's athlete's own activities.
pub async fn get_activity(
    req: HttpRequest,
    path: Path<String>,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&req, &shared)?;
    if !grant.scopes.can_read_activities() {
        return Err(activity_scope_missing());
    }
    let not_found = || ApiError::not_found("Activity", "id");
    let id: i64 = path.parse().map_err(|_| not_found())?;
    let st = shared.lock();
    let s = st.activities.get(&id).ok_or_else(not_found)?;
    let visible = s.activity.athlete_id == grant.athlete
        && (!s.activity.private || grant.scopes.has("activity:read_all"));
    if !visible {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(detailed_activity(s)))
}
