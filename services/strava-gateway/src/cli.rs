//! The command line: `serve`, `migrate`, `seed-demo`.

use crate::{Application, Settings, settings};
use clap::{Parser, Subcommand};
use service::DbSettings;
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
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Load the demo athlete and two years of generated activities (idempotent).
    SeedDemo,
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = settings::load_env(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let settings = Settings::from_env(&env)?;
            service::telemetry::init(settings.log_format);
            let pool = settings.db.pool()?;
            let app = Application::build(&settings, pool)?;
            tracing::info!(port = app.port(), "strava-gateway listening");
            app.run_until_stopped().await?;
            tracing::info!("strava-gateway stopped");
            Ok(())
        }
        Command::Migrate => service::server::migrate(&env).await,
        Command::SeedDemo => {
            let db = DbSettings::from_env(&env)?;
            let pool = db.pool()?;
            let mut conn = pool.get().await?;
            let today = chrono::Utc::now();
            let n = db::demo::seed(&mut conn, today).await?;
            println!(
                "demo athlete {} loaded with {n} activities",
                domain::demo::DEMO_ATHLETE_ID
            );
            Ok(())
        }
    }
}
