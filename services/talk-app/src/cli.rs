//! The command line: `serve`, `migrate`, `ask`.

use crate::{Settings, settings};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use domain::AthleteId;
use std::path::PathBuf;
use uuid::Uuid;

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
    /// Exit 0 when the service on PORT answers /healthz (the container health check).
    Healthcheck,
    /// Ask a question as an athlete and print the answer JSON on one line.
    Ask(AskArgs),
}

/// Arguments of `ask`.
#[derive(Debug, Args)]
pub struct AskArgs {
    /// The athlete asking (Strava athlete id).
    #[arg(long)]
    pub athlete: AthleteId,
    /// The instant to answer at (RFC 3339), read in the athlete's time zone; default now.
    #[arg(long)]
    pub now: Option<DateTime<Utc>>,
    /// Continue this conversation (a new one with this id if unknown).
    #[arg(long)]
    pub conversation: Option<Uuid>,
    /// The question (several words are joined with spaces).
    #[arg(required = true, num_args = 1..)]
    pub question: Vec<String>,
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = settings::load_env(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let settings = Settings::from_env(&env)?;
            service::telemetry::init(settings.log_format);
            let pool = settings
                .db
                .pool_with_lock_timeout(crate::ask_limits::LOCK_TIMEOUT)?;
            let app = crate::startup::build(&settings, pool)?;
            tracing::info!(port = app.port(), "talk-app listening");
            app.run_until_stopped().await?;
            tracing::info!("talk-app stopped");
            Ok(())
        }
        Command::Migrate => service::server::migrate(&env).await,
        Command::Healthcheck => service::health::probe(&env),
        Command::Ask(args) => ask(&env, args).await,
    }
}

/// `ask`: one question, the answer JSON on stdout, the conversation id on stderr.
async fn ask(env: &service::Env, args: AskArgs) -> anyhow::Result<()> {
    let db = service::DbSettings::from_env(env)?;
    let pool = db::connect_pool(db.url.expose(), 2)?;
    let llm = crate::llm::LlmSettings::from_env(env)?.map(crate::llm::LlmClient::new);
    let question = args.question.join(" ");
    let now = args.now.unwrap_or_else(Utc::now);
    match crate::ask::ask(
        &pool,
        llm.as_ref(),
        args.athlete,
        args.conversation,
        &question,
        now,
    )
    .await
    {
        Ok((conversation, answer)) => {
            println!("{}", serde_json::to_string(&answer)?);
            eprintln!("conversation: {conversation}");
            Ok(())
        }
        // Bad arguments exit with 2, like clap's own usage errors.
        Err(e) if e.is_bad_request() => Err(service::exit::Exit::usage(e.to_string()).into()),
        Err(e) => Err(anyhow::Error::new(e).context("could not answer the question")),
    }
}
