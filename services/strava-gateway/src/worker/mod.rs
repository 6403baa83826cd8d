//! The background worker runtime, in two lanes: `WORKER_COUNT` workers that do
//! Strava's work (apply webhook events from the inbox, run backfill, reconcile and
//! refresh jobs) and `IMPORT_WORKER_COUNT` workers that only import uploaded exports,
//! so an upload, which anyone can send, never holds up an athlete's Strava data; plus
//! one upkeep task that schedules reconciliation and enforces retention.
//!
//! Work lives in PostgreSQL (`webhook_events`, `jobs`), claimed with `SKIP LOCKED`
//! under a lease, so any number of workers in any number of processes share it and a
//! worker that dies only delays its item until the lease lapses.
//!
//! Waking: one listener task holds a dedicated connection that `LISTEN`s on the inbox
//! and job channels (diesel-async exposes the notification stream of a connection, so
//! no second PostgreSQL client is needed) and wakes idle workers at once. Workers also
//! look for work every `WORKER_POLL_INTERVAL_MS`, which covers notifications lost while
//! the listener reconnects and work that becomes due later (retries, postponements).
//!
//! Stopping: [`Workers::shutdown`] asks every task to stop; a worker finishes the item
//! in hand (a backfill stops between pages and hands its job back at once), and tasks
//! still running after the grace period are aborted, their leases lapsing as after a
//! crash.

mod details;
mod events;
mod import;
mod jobs;

pub use details::{READ_SHARE_PERCENT, details_job};
pub use jobs::backfill_job;

use crate::settings::WorkerSettings;
use crate::strava::StravaClient;
use db::crypto::TokenCipher;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// What every worker needs.
pub struct Context {
    pub pool: db::Pool,
    pub strava: StravaClient,
    pub cipher: TokenCipher,
    pub settings: WorkerSettings,
}

/// Running workers; stop them with [`Workers::shutdown`].
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `settings.count` workers, the listener and (when its interval is not
    /// zero) the upkeep task on the current Tokio runtime.
    pub fn spawn(ctx: Context) -> Self {
        let ctx = Arc::new(ctx);
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let mut tasks = vec![tokio::spawn(listen(
            ctx.pool.clone(),
            wake.clone(),
            stopped.clone(),
        ))];
        let import_lanes = if ctx.settings.count == 0 {
            0
        } else {
            ctx.settings.import_count
        };
        let lanes = std::iter::repeat_n(Lane::Strava, ctx.settings.count)
            .chain(std::iter::repeat_n(Lane::Import, import_lanes));
        for (n, lane) in lanes.enumerate() {
            tasks.push(tokio::spawn(run_worker(
                ctx.clone(),
                n,
                lane,
                wake.clone(),
                stopped.clone(),
            )));
        }
        if !ctx.settings.upkeep_interval.is_zero() {
            tasks.push(tokio::spawn(run_upkeep(ctx.clone(), stopped)));
        }
        tracing::info!(
            workers = ctx.settings.count,
            import_workers = import_lanes,
            "workers started"
        );
        Self { stop, tasks }
    }

    /// Asks every task to stop and waits up to `grace` for them; the rest are aborted.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for mut task in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
        tracing::info!("workers stopped");
    }

    /// Aborts every task at once, as a crash would (tests).
    pub fn abort(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// The work a worker takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Webhook events, then Strava sync jobs.
    Strava,
    /// Imports of uploaded exports only.
    Import,
}

impl Lane {
    fn jobs(self) -> &'static [db::jobs::JobKind] {
        use db::jobs::JobKind;
        match self {
            Self::Strava => &[
                JobKind::Backfill,
                JobKind::Reconcile,
                JobKind::Refresh,
                JobKind::Details,
            ],
            Self::Import => &[JobKind::Import],
        }
    }
}

/// One worker: apply due events first (they are what the athlete just did), then run
/// due jobs of its lane; when there is nothing, sleep until woken, the poll interval,
/// or stop.
async fn run_worker(
    ctx: Arc<Context>,
    n: usize,
    lane: Lane,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    let mut stop_changed = stop.clone();
    loop {
        if *stop.borrow() {
            return;
        }
        // Registered before looking, so a notification that arrives while we look
        // is not lost.
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match step(&ctx, lane, &stop).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(worker = n, error = %format!("{e:#}"), "worker step failed"),
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep(ctx.settings.poll_interval) => {}
            _ = stop_changed.changed() => {}
        }
    }
}

/// Events a worker claims at once: one claim statement for many events. Few enough
/// that the last of a batch starts well within its lease even when Strava is slow, and
/// that a burst is still shared between workers.
const EVENT_BATCH: usize = 16;

/// Does one batch of its lane's events, or else one job; says whether there was any.
async fn step(ctx: &Context, lane: Lane, stop: &watch::Receiver<bool>) -> anyhow::Result<bool> {
    if lane == Lane::Strava {
        let batch = {
            let mut conn = ctx.pool.get().await?;
            db::inbox::claim(&mut conn, ctx.settings.lease, EVENT_BATCH).await?
        };
        if !batch.is_empty() {
            let mut batch = batch.into_iter();
            for event in batch.by_ref() {
                events::process(ctx, event).await?;
                if *stop.borrow() {
                    break;
                }
            }
            // Stopping: the events not begun go back at once, their attempt uncounted,
            // rather than waiting out the lease.
            let rest: Vec<_> = batch.collect();
            if !rest.is_empty() {
                let mut conn = ctx.pool.get().await?;
                for event in &rest {
                    db::inbox::postpone(&mut conn, event, chrono::Utc::now()).await?;
                }
            }
            return Ok(true);
        }
    }
    let job = {
        let mut conn = ctx.pool.get().await?;
        db::jobs::claim(&mut conn, lane.jobs(), ctx.settings.lease).await?
    };
    if let Some(job) = job {
        jobs::process(ctx, job, stop).await?;
        return Ok(true);
    }
    Ok(false)
}

/// Keeps a dedicated connection listening on the inbox and job channels and wakes the
/// workers on every notification; reconnects after a pause when the connection drops.
async fn listen(pool: db::Pool, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    loop {
        match open_listener(&pool).await {
            Ok(mut conn) => {
                // Anything that arrived while we were not listening is picked up now.
                wake.notify_waiters();
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                loop {
                    tokio::select! {
                        n = notifications.next() => match n {
                            Some(Ok(_)) => wake.notify_waiters(),
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "notification listener lost its connection");
                                break;
                            }
                            None => break,
                        },
                        _ = stop.changed() => return,
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for notifications; polling"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Takes a connection out of the pool for good (it must not be shared: it carries
/// our `LISTEN`s) and subscribes it to both channels.
async fn open_listener(pool: &db::Pool) -> anyhow::Result<db::AsyncPgConnection> {
    let pooled = pool.get().await?;
    let mut conn = db::PooledConn::take(pooled);
    for channel in [db::inbox::NOTIFY_CHANNEL, db::jobs::NOTIFY_CHANNEL] {
        diesel::sql_query(format!("LISTEN {channel}"))
            .execute(&mut conn)
            .await?;
    }
    Ok(conn)
}

/// Every `UPKEEP_INTERVAL_SECS` (first right after start): queue due reconciliations
/// and refreshes, and drop API rows past the retention limit.
async fn run_upkeep(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = jobs::upkeep(&ctx).await {
            tracing::error!(error = %format!("{e:#}"), "upkeep sweep failed");
        }
        tokio::select! {
            () = tokio::time::sleep(ctx.settings.upkeep_interval) => {}
            _ = stop.changed() => return,
        }
    }
}
