//! `strava-fake`: runs the fake Strava API on its own, for local development or to
//! point any Strava client at it. Stops on Ctrl-C.

use anyhow::Context;
use clap::Parser;
use std::time::Duration;
use strava_fake::{FakeConfig, FakeStrava, NewAthlete, RateLimits, SeedFile};

/// A fake Strava API (OAuth, athlete, activities, push subscriptions, webhooks).
#[derive(Debug, Parser)]
#[command(name = "strava-fake", version)]
struct Args {
    /// Address to bind (use 0.0.0.0 inside a container).
    #[arg(long, default_value = "127.0.0.1", env = "STRAVA_FAKE_HOST")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8090, env = "STRAVA_FAKE_PORT")]
    port: u16,
    /// The application's client id.
    #[arg(long, default_value = "1234", env = "STRAVA_CLIENT_ID")]
    client_id: String,
    /// The application's client secret.
    #[arg(
        long,
        default_value = "fake-client-secret",
        env = "STRAVA_CLIENT_SECRET"
    )]
    client_secret: String,
    /// Generated athletes to add (default 1, or 0 when a seed file is given).
    #[arg(long)]
    athletes: Option<usize>,
    /// Generated activities per generated athlete.
    #[arg(long, default_value_t = 200)]
    activities_per_athlete: usize,
    /// JSON seed file (see the `seed` module docs for its shape).
    #[arg(long)]
    seed_file: Option<std::path::PathBuf>,
    /// Serve without rate limits (and without rate-limit headers).
    #[arg(long)]
    no_rate_limits: bool,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 6 * 3600)]
    token_ttl_secs: u64,
    /// Pause between webhook delivery attempts, milliseconds.
    #[arg(long, default_value_t = 1000)]
    webhook_retry_delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = FakeConfig {
        host: args.host.clone(),
        port: args.port,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        rate_limits: (!args.no_rate_limits).then(RateLimits::default),
        ..FakeConfig::default()
    };
    config.webhook.retry_delay = Duration::from_millis(args.webhook_retry_delay_ms);
    let fake = FakeStrava::start(config)
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;

    if let Some(path) = &args.seed_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let seed: SeedFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid seed file", path.display()))?;
        fake.seed(seed)?;
    }
    let generated = args
        .athletes
        .unwrap_or(if args.seed_file.is_some() { 0 } else { 1 });
    for n in 1..=generated {
        let id = fake.add_athlete(NewAthlete {
            firstname: "Athlete".into(),
            lastname: n.to_string(),
            ..NewAthlete::default()
        })?;
        fake.generate_activities(id, args.activities_per_athlete)?;
    }

    println!("strava-fake listening on {}", fake.base_url());
    println!(
        "  client_id={} client_secret={}",
        fake.client_id(),
        fake.client_secret()
    );
    for a in fake.athletes() {
        println!(
            "  athlete {} {} {} ({} activities)",
            a.id,
            a.firstname,
            a.lastname,
            fake.activities(a.id).len()
        );
    }
    println!("  control API: {}/_fake/state", fake.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    println!("stopping");
    fake.stop().await;
    Ok(())
}
