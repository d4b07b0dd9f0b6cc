//! The session's send pipeline, one outbox row at a time: each attempt is counted before
//! it is made and its outcome recorded after, both through the message's conversation
//! actor (its one writer); an attempt whose outcome is unknown (a crash, a timeout) is
//! checked against WAHA before anything is sent again.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use super::conversation::{Followup, Task};
use super::error::HubError;
use super::services::Services;
use super::session::{ForChat, SessionActor};
use crate::domain::{SendOutcome, SessionRef};
use crate::store::{outbound, outbox, StoreError, Tx};
use crate::waha::client::{FileRef, SendFile, SendText, WahaError};

/// Give up on a message after this many attempts (about 10 minutes of backoff).
const MAX_SEND_ATTEMPTS: i64 = 12;
/// A bot's reply: about 7 seconds of backoff.
const MAX_BOT_SEND_ATTEMPTS: i64 = 4;

fn backoff(attempts: i64) -> Duration {
    Duration::from_millis((500u64 << attempts.clamp(0, 7) as u32).min(60_000))
}

/// Runs a step of the pipeline in the message's conversation, in its turn.
async fn in_conversation<I, O, F>(
    session: &Addr<SessionActor>,
    chat_id: &str,
    input: I,
    job: F,
) -> Result<O, HubError>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
    F: for<'a> Fn(&'a mut Tx, &'a I) -> futures_util::future::BoxFuture<'a, Result<O, StoreError>>
        + Send
        + Sync
        + 'static,
{
    let (tx, rx) = oneshot::channel();
    session
        .send(ForChat {
            chat_id: chat_id.to_string(),
            task: Task::new(input, job, tx, |_| Followup::None),
        })
        .await?;
    Ok(rx.await.map_err(|_| HubError::Stopped)??)
}

/// One attempt at one outbox row. `Ok(Some(d))`: try again after `d`.
pub(super) async fn send_one(
    services: Arc<Services>,
    session: SessionRef,
    me: Addr<SessionActor>,
    outbox_id: i64,
) -> Result<Option<Duration>, HubError> {
    let Some(item) = outbox::get(&services.db, outbox_id).await? else {
        return Ok(None);
    };
    if item.state.is_final() {
        return Ok(None);
    }
    let now = services.now_ms();
    if item.next_attempt_at > now {
        return Ok(Some(Duration::from_millis(
            (item.next_attempt_at - now) as u64,
        )));
    }
    let outcome = attempt(&services, &session, &me, &item).await?;
    let retry = match &outcome {
        SendOutcome::Retry { at, .. } => {
            Some(Duration::from_millis((at - services.now_ms()).max(0) as u64))
        }
        SendOutcome::Sent(_) => {
            metrics::counter!("tickhub_messages_sent_total").increment(1);
            None
        }
        SendOutcome::Failed(reason) => {
            warn!(outbox_id, reason = %reason, "message failed");
            metrics::counter!("tickhub_messages_failed_total").increment(1);
            None
        }
    };
    let handed_off = in_conversation(&me, &item.chat_id, (outbox_id, outcome), |tx, (id, o)| {
        Box::pin(outbound::record_send(tx, *id, o))
    })
    .await?;
    if let Some(reaction) = handed_off {
        super::conversation::tally(&reaction.tally);
        if reaction.route {
            services.router().route(session.id, item.conversation_id);
        }
    }
    Ok(retry)
}

async fn attempt(
    services: &Services,
    session: &SessionRef,
    me: &Addr<SessionActor>,
    item: &outbox::OutboxItem,
) -> Result<SendOutcome, HubError> {
    let waha = &services.waha;
    let retry = |e: &WahaError| SendOutcome::Retry {
        at: services.now_ms() + backoff(item.attempts).as_millis() as i64,
        error: e.to_string(),
    };
    // A customer waiting on the bot should not wait ten minutes: its replies give up
    // sooner, and the conversation goes to a person (`bot_flow::send_failed`).
    let max = if item.bot_id.is_some() {
        MAX_BOT_SEND_ATTEMPTS
    } else {
        MAX_SEND_ATTEMPTS
    };
    if item.attempts >= max {
        return Ok(SendOutcome::Failed(format!(
            "gave up after {} attempts",
            item.attempts
        )));
    }
    // An earlier attempt may have reached WhatsApp before we lost track of it (a crash,
    // a timeout, an answer that said failed): ask WAHA for the reserved id before sending
    // again. A reserved id means an attempt was made, even when a retry asked for by a
    // member has set the count back to 0.
    if let Some(id) = item.waha_id.as_deref() {
        match waha.get_message(&session.name, &item.chat_id, id).await {
            Ok(Some(_)) => {
                info!(
                    outbox_id = item.id,
                    waha_id = id,
                    "an earlier attempt went through; not sending again"
                );
                return Ok(SendOutcome::Sent(Some(id.to_string())));
            }
            Ok(None) => {}
            Err(e) => return Ok(retry(&e)),
        }
    }
    let (raw_id, reserved) = match item.waha_id.as_deref() {
        Some(id) => (
            Some(crate::domain::chat::raw_message_id(id).to_string()),
            None,
        ),
        None => match waha.new_message_id(&session.name).await {
            Ok(Some(raw)) => {
                let serialized = format!("true_{}_{}", item.chat_id, raw);
                (Some(raw), Some(serialized))
            }
            // Older WAHA cannot reserve ids: send without one.
            Ok(None) => (None, None),
            Err(e) if e.is_retryable() => return Ok(retry(&e)),
            Err(_) => (None, None),
        },
    };
    in_conversation(me, &item.chat_id, (item.id, reserved), |tx, (id, r)| {
        Box::pin(outbound::begin_attempt(tx, *id, r.as_deref()))
    })
    .await?;
    let sent = match (&item.media_url, &item.media_mimetype) {
        (Some(url), Some(mimetype)) => {
            let req = SendFile {
                session: session.name.clone(),
                chat_id: item.chat_id.clone(),
                file: FileRef {
                    url: url.clone(),
                    mimetype: mimetype.clone(),
                    filename: item.media_filename.clone(),
                },
                caption: item.text.clone(),
                id: raw_id.clone(),
            };
            waha.send_file(&req).await
        }
        _ => {
            let req = SendText {
                session: session.name.clone(),
                chat_id: item.chat_id.clone(),
                text: item.text.clone(),
                reply_to: None,
                id: raw_id.clone(),
            };
            waha.send_text(&req).await
        }
    };
    Ok(match sent {
        Ok(sent) => SendOutcome::Sent(
            sent.id
                .or_else(|| raw_id.map(|r| format!("true_{}_{}", item.chat_id, r))),
        ),
        Err(e) if e.is_retryable() => {
            debug!(error = %e, "WAHA refused for now");
            retry(&e)
        }
        Err(e) => SendOutcome::Failed(e.to_string()),
    })
}
