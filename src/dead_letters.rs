//! `restaurant-tui dead-letters list | replay ID | purge` (CONTRACT §8): what an operator does
//! with messages that could never be processed. The answer goes to stdout, with every text an
//! outsider wrote (bodies, reasons) escaped for the terminal.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::assembly::{Assembly, BrokerChoice, Plan};
use crate::broker::{Broker, BrokerError, BrokerStatus, DeadLetter};
use crate::cli::DeadLetterAction;
use crate::config::Config;
use crate::domain::visible;
use crate::startup::StartupError;

/// How long to wait for RabbitMQ before giving up.
const CONNECT: Duration = Duration::from_secs(15);

pub async fn run(config: &Config, action: &DeadLetterAction) -> Result<(), StartupError> {
    let plan = Plan {
        store: false,
        broker: BrokerChoice::Rabbit {
            needed_by: "dead-letters",
        },
    };
    let kitchen = Assembly::build(config, plan).await?;
    let broker = kitchen
        .broker()
        .cloned()
        .ok_or(crate::assembly::AssemblyError::NoKitchen)?;
    let result = act(broker, action).await;
    kitchen.shutdown().run().await?;
    result
}

async fn act(broker: Arc<dyn Broker>, action: &DeadLetterAction) -> Result<(), StartupError> {
    connected(broker.as_ref()).await?;
    let failed = |e: BrokerError| StartupError::Failed(format!("dead letters: {e}"));
    let mut out = std::io::stdout().lock();
    match action {
        DeadLetterAction::List { limit } => {
            let letters = broker.dead_letters(*limit as usize).await.map_err(failed)?;
            let _ = write!(out, "{}", listing(&letters));
        }
        DeadLetterAction::Replay { id } => {
            match broker.replay_dead_letter(id).await.map_err(failed)? {
                Some(l) => {
                    let _ = writeln!(
                        out,
                        "sent {} back to {} ({})",
                        visible(&l.id),
                        visible(&l.exchange),
                        visible(&l.routing_key)
                    );
                    tracing::info!(action = "dead_letter_replayed", message_id = %visible(&l.id), "dead letter sent back");
                }
                None => {
                    return Err(StartupError::Usage(format!(
                        "no dead letter has the id {} (restaurant-tui dead-letters list shows them)",
                        visible(id)
                    )));
                }
            }
        }
        DeadLetterAction::Purge => {
            let n = broker.purge_dead_letters().await.map_err(failed)?;
            let _ = writeln!(
                out,
                "purged {n} dead letter{}",
                if n == 1 { "" } else { "s" }
            );
            tracing::info!(
                action = "dead_letters_purged",
                count = n,
                "dead letters purged"
            );
        }
    }
    Ok(())
}

/// Waits for the broker, or says why it cannot be reached.
async fn connected(broker: &dyn Broker) -> Result<(), StartupError> {
    let mut status = broker.status();
    tokio::select! {
        why = broker.refused() => Err(StartupError::Failed(why)),
        up = tokio::time::timeout(CONNECT, status.wait_for(|s| *s == BrokerStatus::Connected)) => match up {
            Ok(Ok(_)) => Ok(()),
            _ => Err(StartupError::Failed(format!(
                "RabbitMQ did not answer within {} s: {}",
                CONNECT.as_secs(),
                broker.last_error().unwrap_or_else(|| "no connection".into())
            ))),
        },
    }
}

/// The letters as an operator reads them.
pub fn listing(letters: &[DeadLetter]) -> String {
    let mut s = match letters.len() {
        0 => "no dead letters\n".to_string(),
        n => format!(
            "{n} dead letter{} (oldest first; the queue keeps the latest {}):\n",
            if n == 1 { "" } else { "s" },
            crate::broker::DEAD_LETTER_LIMIT
        ),
    };
    for l in letters {
        let body = String::from_utf8_lossy(&l.body);
        s.push_str(&format!(
            "\n{}\n  reason:      {}\n  request id:  {}\n  from:        {} {}\n  body:        {}\n",
            visible(&l.id),
            visible(&l.reason),
            visible(l.request_id.as_deref().unwrap_or("-")),
            visible(&l.exchange),
            visible(&l.routing_key),
            visible(&body),
        ));
    }
    s
}
