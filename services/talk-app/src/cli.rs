//! The command line: `serve`, `migrate`.

use crate::{Application, Settings, settings};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// StravaTalk's chat: ask your Strava activities questions in plain English.
#[derive(Debug, Parser)]
#[command(name = "talk-app", version)]
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
    /// Serve the web app and API until SIGTERM or Ctrl-C.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
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
            tracing::info!(port = app.port(), "talk-app listening");
            app.run_until_stopped().await?;
            tracing::info!("talk-app stopped");
            Ok(())
        }
        Command::Migrate => service::server::migrate(&env).await,
    }
}
