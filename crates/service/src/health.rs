//! `/healthz` says the process is up; `/readyz` says it can serve: the database
//! answers and every migration this binary knows is applied.

use actix_web::{HttpResponse, web};
use std::time::Duration;

/// Registers both endpoints; `pool` must be in the app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(pool: web::Data<db::Pool>) -> HttpResponse {
    match check_ready(&pool).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "unavailable", "reason": reason })),
    }
}

/// `Ok` when the database answers within two seconds and no migration is pending.
pub async fn check_ready(pool: &db::Pool) -> Result<(), String> {
    let check = async {
        let mut conn = pool.get().await.map_err(|e| {
            tracing::warn!(error = %e, "readiness: no database connection");
            "database unreachable".to_owned()
        })?;
        let pending = db::migrate::pending(&mut conn).await.map_err(|e| {
            tracing::warn!(error = %e, "readiness: migration check failed");
            "migrations not applied".to_owned()
        })?;
        if pending.is_empty() {
            Ok(())
        } else {
            Err(format!("{} migration(s) pending", pending.len()))
        }
    };
    tokio::time::timeout(Duration::from_secs(2), check)
        .await
        .unwrap_or_else(|_| Err("database did not answer in time".to_owned()))
}

/// The `healthcheck` subcommand behind the images' `HEALTHCHECK`: asks this machine's
/// service on `PORT` for `/healthz`, so the runtime image needs no curl.
pub fn probe(env: &crate::Env) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let port: u16 = env.required("PORT")?;
    let timeout = Duration::from_secs(2);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut status = [0u8; 12];
    stream.read_exact(&mut status)?;
    anyhow::ensure!(
        status.ends_with(b" 200"),
        "unhealthy: {}",
        String::from_utf8_lossy(&status)
    );
    Ok(())
}
