//! The command line: `serve`, `worker`, `migrate`, `import`, `seed-demo`,
//! `subscription ensure|show|delete`, `disconnect`.

use crate::{Settings, settings};
use clap::{Parser, Subcommand};
use service::DbSettings;
use service::exit::Exit;
use std::path::PathBuf;

/// StravaTalk's Strava gateway: OAuth, webhooks and activity sync.
#[derive(Debug, Parser)]
#[command(name = "strava-gateway", version)]
pub struct Cli {
    /// A TOML file with settings (keys are the environment variable names in lower
    /// case); environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (OAuth, webhooks, /healthz, /readyz) until SIGTERM or Ctrl-C.
    Serve,
    /// Run only the background workers (events, backfill, reconciliation) until
    /// SIGTERM or Ctrl-C; `serve` runs them too.
    Worker,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Exit 0 when the service on PORT answers /healthz (the container health check).
    Healthcheck,
    /// Load one athlete's activities from a Strava export `activities.csv` or a JSON
    /// array of SummaryActivity, all or nothing. Exit code 0: every row stored; 1: bad
    /// rows (listed by line or index), nothing stored; 2: usage, file or database
    /// error, nothing stored.
    Import {
        /// The Strava athlete id the activities belong to (a positive integer).
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        athlete: domain::AthleteId,
        /// Strava's athlete JSON (name, measurement_preference), used when the athlete
        /// is created.
        #[arg(long, value_name = "FILE")]
        athlete_json: Option<PathBuf>,
        /// The athlete's IANA time zone, stored on the athlete; the export's dates are
        /// UTC, so a CSV needs it unless the athlete already has a zone. In an export
        /// ZIP, activities with a GPS file take the zone of their first position.
        #[arg(long, value_name = "Area/City", value_parser = parse_iana_zone)]
        timezone: Option<chrono_tz::Tz>,
        /// Import the good rows and list the bad ones, instead of refusing the file.
        #[arg(long)]
        skip_bad_rows: bool,
        /// Strava's export archive (`export_NNNN.zip`), its `activities.csv`, or a
        /// `.json` file.
        file: PathBuf,
    },
    /// Load the demo athlete and two years of generated activities (idempotent).
    SeedDemo,
    /// Manage the application's Strava webhook subscription.
    Subscription {
        #[command(subcommand)]
        action: crate::admin::SubscriptionCommand,
    },
    /// Revoke an athlete's Strava authorization, then erase everything stored for them.
    Disconnect {
        /// The Strava athlete id.
        #[arg(long, value_name = "ID")]
        athlete: domain::AthleteId,
    },
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = settings::load_env(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let settings = Settings::from_env(&env)?;
            service::telemetry::init(settings.log_format);
            let pool = settings.db.pool()?;
            let app = crate::startup::build(&settings, pool.clone())?;
            let workers = crate::worker::Workers::spawn(worker_context(
                &settings.strava,
                settings.token_cipher.clone(),
                settings.worker.clone(),
                pool,
            ));
            tracing::info!(port = app.port(), "strava-gateway listening");
            // actix handles SIGTERM/Ctrl-C and drains requests; workers stop after.
            let served = app.run_until_stopped().await;
            workers.shutdown(WORKER_GRACE).await;
            served?;
            tracing::info!("strava-gateway stopped");
            Ok(())
        }
        Command::Worker => {
            // Only what the workers use: no HTTP, OAuth or webhook settings.
            let db = DbSettings::from_env(&env)?;
            service::telemetry::init(env.required("LOG_FORMAT")?);
            let strava = crate::settings::StravaSettings::from_env(&env)?;
            let cipher = crate::settings::token_cipher(&env)?;
            let worker = crate::settings::WorkerSettings::from_env(&env)?;
            let pool = db.pool()?;
            let workers =
                crate::worker::Workers::spawn(worker_context(&strava, cipher, worker, pool));
            shutdown_signal().await;
            tracing::info!("stopping workers");
            workers.shutdown(WORKER_GRACE).await;
            Ok(())
        }
        Command::Import {
            athlete,
            athlete_json,
            timezone,
            skip_bad_rows,
            file,
        } => {
            let db = DbSettings::from_env(&env).map_err(|e| Exit::usage(e.to_string()))?;
            let pool = db.pool().map_err(|e| Exit::usage(format!("{e:#}")))?;
            let args = crate::import::ImportArgs {
                athlete,
                athlete_json,
                file,
                timezone,
                skip_bad_rows,
                max_activities: None,
            };
            let report = crate::import::run(&pool, &args)
                .await
                .map_err(|e| Exit::usage(e.to_string()))?;
            if !report.stored() {
                for bad in &report.bad {
                    eprintln!("{}: {}", bad.place, bad.reason);
                }
                let unlisted = report.bad_count - report.bad.len();
                if unlisted > 0 {
                    eprintln!("... and {unlisted} more bad rows");
                }
                return Err(Exit {
                    code: report.exit_code(),
                    message: format!(
                        "nothing imported: {} bad rows; fix them and import the file again",
                        report.bad_count
                    ),
                }
                .into());
            }
            for bad in &report.bad {
                eprintln!("skipped {}: {}", bad.place, bad.reason);
            }
            let unlisted = report.bad_count - report.bad.len();
            if unlisted > 0 {
                eprintln!("... and {unlisted} more bad rows skipped");
            }
            println!(
                "imported {} activities for athlete {athlete} ({} written, {} kept as Strava gave them, {} bad rows skipped){}",
                report.read,
                report.written,
                report.kept,
                report.bad_count,
                if report.created_athlete {
                    "; athlete created"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Migrate => service::server::migrate(&env).await,
        Command::Healthcheck => service::health::probe(&env),
        Command::Subscription { action } => crate::admin::subscription(&env, action).await,
        Command::Disconnect { athlete } => crate::admin::disconnect(&env, athlete).await,
        Command::SeedDemo => {
            let db = DbSettings::from_env(&env)?;
            let pool = db.pool()?;
            let mut conn = pool.get().await?;
            let today = chrono::Utc::now();
            let n = db::demo::seed(&mut conn, today).await?;
            println!(
                "demo athlete {} loaded with {n} activities",
                demo::DEMO_ATHLETE_ID
            );
            Ok(())
        }
    }
}

/// How long workers get to finish the item in hand once asked to stop.
const WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

fn worker_context(
    strava: &crate::settings::StravaSettings,
    cipher: db::crypto::TokenCipher,
    settings: crate::settings::WorkerSettings,
    pool: db::Pool,
) -> crate::worker::Context {
    crate::worker::Context {
        strava: crate::strava::StravaClient::new(strava, pool.clone()),
        pool,
        cipher,
        settings,
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// An IANA zone name for `--timezone`; clap names the flag when this fails.
fn parse_iana_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim().parse().map_err(|_| {
        let shown: String = name.chars().take(64).collect();
        format!("unknown time zone {shown:?}: expected an IANA name such as Europe/Paris")
    })
}
