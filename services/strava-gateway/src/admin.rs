//! Operator commands that talk to Strava: `subscription ensure|show|delete` and
//! `disconnect`. Each reads only the configuration it uses.

use crate::settings::{StravaSettings, public_url};
use crate::strava::{StravaClient, Subscription};
use clap::Subcommand;
use domain::AthleteId;
use service::{DbSettings, Env};

/// `strava-gateway subscription …`: the application's one webhook subscription.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum SubscriptionCommand {
    /// Make sure a subscription points at `GATEWAY_PUBLIC_URL/webhook`: keep a matching
    /// one, replace one with another callback, or create one (the gateway must be
    /// serving, since Strava checks the callback first). Prints the id.
    Ensure,
    /// Print the current subscription, if any.
    Show,
    /// Delete the current subscription, if any.
    Delete,
}

/// Runs a subscription command. Needs `STRAVA_CLIENT_ID`, `STRAVA_CLIENT_SECRET`, the
/// Strava URLs and, for `ensure`, `GATEWAY_PUBLIC_URL` and `STRAVA_WEBHOOK_VERIFY_TOKEN`.
pub async fn subscription(env: &Env, command: SubscriptionCommand) -> anyhow::Result<()> {
    let strava = StravaSettings::from_env(env)?;
    // A handful of calls: no shared budget (and no database) needed.
    let client = StravaClient::without_budget(&strava);
    let current = client.view_subscription().await?;
    match command {
        SubscriptionCommand::Show => match current {
            Some(s) => print_subscription("subscription", &s),
            None => println!("no push subscription"),
        },
        SubscriptionCommand::Delete => match current {
            Some(s) => {
                client.delete_subscription(s.id).await?;
                println!("deleted subscription {} ({})", s.id, s.callback_url);
            }
            None => println!("no push subscription to delete"),
        },
        SubscriptionCommand::Ensure => {
            let callback = format!("{}/webhook", public_url(env)?);
            let verify_token = env.secret("STRAVA_WEBHOOK_VERIFY_TOKEN")?;
            if let Some(s) = current {
                if s.callback_url == callback {
                    print_subscription("subscription already in place", &s);
                    remind(strava.subscription_id, s.id);
                    return Ok(());
                }
                // Strava cannot update a subscription: replace it.
                client.delete_subscription(s.id).await?;
                println!("deleted subscription {} ({})", s.id, s.callback_url);
            }
            let id = client.create_subscription(&callback, &verify_token).await?;
            print_subscription(
                "created subscription",
                &Subscription {
                    id,
                    callback_url: callback,
                },
            );
            remind(strava.subscription_id, id);
        }
    }
    Ok(())
}

fn print_subscription(what: &str, s: &Subscription) {
    println!("{what} {} -> {}", s.id, s.callback_url);
}

fn remind(configured: Option<i64>, actual: i64) {
    match configured {
        Some(pinned) if pinned != actual => println!(
            "STRAVA_SUBSCRIPTION_ID is {pinned} but the subscription is {actual}: update or unset it, \
             or the gateway drops every event"
        ),
        _ => {}
    }
}

/// `strava-gateway disconnect --athlete ID`: revokes at Strava, then erases the
/// athlete. Needs `DATABASE_URL`, `TOKEN_ENCRYPTION_KEY` and the Strava client settings.
pub async fn disconnect(env: &Env, athlete: AthleteId) -> anyhow::Result<()> {
    let db = DbSettings::from_env(env)?;
    let cipher = crate::settings::token_cipher(env)?;
    let strava = StravaSettings::from_env(env)?;
    let pool = db.pool()?;
    let client = StravaClient::new(&strava, pool.clone());
    let done = crate::oauth::disconnect(&pool, &client, &cipher, athlete).await?;
    println!(
        "athlete {athlete}: {}; {}",
        if done.revoked {
            "access revoked at Strava"
        } else {
            "no valid Strava authorization to revoke"
        },
        if done.erased {
            "all their data erased"
        } else {
            "nothing stored here"
        }
    );
    Ok(())
}
