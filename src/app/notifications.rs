//! The notification jobs (docs/notifications.md): the email sender, the SLA watcher and
//! the daily summaries. They run on the coordinating node only, beside the inbox, never
//! in its path: an email is a row written with what causes it, and a slow or absent SMTP
//! server only delays this sender.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::{debug, info, warn};

use super::shutdown::Shutdown;
use crate::actors::Services;
use crate::config::{SmtpConfig, SmtpTls};
use crate::domain::notify;
use crate::store::{email, notify as recipients, secrets, sla, StoreError};

const SEND_EVERY: Duration = Duration::from_secs(1);
const SEND_BATCH: i64 = 20;
/// One SMTP conversation may take this long before it counts as failed (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
const SLA_EVERY: Duration = Duration::from_secs(1);
const SLA_BATCH: i64 = 200;
/// Each SLA pass looks this far back behind the last one's edge, for waits whose
/// transaction committed late (already-alerted ones cost one index probe each).
const SLA_OVERLAP_MS: i64 = 5_000;
const SUMMARY_EVERY: Duration = Duration::from_secs(2);
/// Sent and given-up emails are kept a month; unsent ones (no SMTP server configured)
/// a week.
const EMAIL_KEEP_MS: i64 = 30 * 86_400_000;
const EMAIL_PENDING_KEEP_MS: i64 = 7 * 86_400_000;

/// Why an email could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The server or the network failed: try again later.
    #[error("{0}")]
    Transient(String),
    /// The email cannot be sent as it is (a bad address, a permanent refusal).
    #[error("{0}")]
    Permanent(String),
}

/// TLS towards `cfg.host`, trusting the public roots and the certificates of
/// `TICKHUB_SMTP_CA_FILE`.
fn tls_parameters(cfg: &SmtpConfig) -> Result<TlsParameters, MailError> {
    let unusable =
        |e: lettre::transport::smtp::Error| MailError::Permanent(format!("SMTP TLS settings: {e}"));
    let mut params = TlsParameters::builder(cfg.host.clone());
    if let Some(pem) = &cfg.ca_pem {
        params =
            params.add_root_certificate(Certificate::from_pem(pem.as_bytes()).map_err(unusable)?);
    }
    params.build_rustls().map_err(unusable)
}

/// The hub's SMTP client.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    footer: String,
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig, base_url: &str) -> Result<Mailer, MailError> {
        let plain = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host);
        let builder = match cfg.tls {
            SmtpTls::None => plain,
            SmtpTls::StartTls => plain.tls(Tls::Required(tls_parameters(cfg)?)),
            SmtpTls::Tls => plain.tls(Tls::Wrapper(tls_parameters(cfg)?)),
        };
        let mut builder = builder.port(cfg.port).timeout(Some(SMTP_TIMEOUT));
        if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        let from = cfg
            .from
            .parse()
            .map_err(|e| MailError::Permanent(format!("TICKHUB_SMTP_FROM: {e}")))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
            footer: notify::footer(base_url),
        })
    }

    /// Sends one email; `Ok` once the server has accepted it.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError::Permanent(format!("recipient {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(format!("{body}{}", self.footer))
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A refused login is the hub's settings, not this email: it waits for the
            // password to be put right (`PUT /api/settings/smtp`).
            Err(e) if e.is_permanent() && !login_refused(&e) => {
                Err(MailError::Permanent(e.to_string()))
            }
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}

/// 530 authentication required, 534 mechanism too weak, 535 credentials invalid, 538
/// encryption required for the mechanism (RFC 4954).
fn login_refused(e: &lettre::transport::smtp::Error) -> bool {
    matches!(e.status().map(u16::from), Some(530 | 534 | 535 | 538))
}

/// Where the inbox is, for the line under every email.
fn base_url(services: &Services) -> String {
    match &services.config.public_url {
        Some(u) => u.as_str().trim_end_matches('/').to_string(),
        None => services
            .webhook_url
            .trim_end_matches("/webhooks/waha")
            .to_string(),
    }
}

/// Sends due emails, each until the server accepts it, with backoff between failures;
/// without SMTP settings it only prunes (emails wait a week for settings to come).
pub async fn send_emails(services: Arc<Services>, mut shutdown: Shutdown) {
    // The password stored in the hub's settings (encrypted, `PUT /api/settings/smtp`)
    // wins over `TICKHUB_SMTP_PASSWORD`; it is read again each round, so a change is used
    // by the next email.
    let mut mailer: Option<Mailer> = None;
    let mut password_in_use: Option<Option<String>> = None;
    let mut last_prune = 0;
    loop {
        if services.coordinates() {
            if let Some(cfg) = &services.config.smtp {
                match secrets::get(&services.db, &services.keys, secrets::SMTP_PASSWORD).await {
                    Ok(stored) => {
                        let password = stored.or_else(|| cfg.password.clone());
                        if password_in_use.as_ref() != Some(&password) {
                            let cfg = SmtpConfig {
                                password: password.clone(),
                                ..cfg.clone()
                            };
                            mailer = match Mailer::new(&cfg, &base_url(&services)) {
                                Ok(m) => Some(m),
                                Err(e) => {
                                    warn!(error = %e, "SMTP settings unusable: no emails are sent");
                                    None
                                }
                            };
                            password_in_use = Some(password);
                        }
                    }
                    Err(e) => warn!(error = %e, "could not read the stored SMTP password"),
                }
            }
            if let Some(m) = &mailer {
                match send_due(&services, m).await {
                    Ok(0) => {}
                    Ok(n) => debug!(count = n, "emails sent"),
                    Err(e) => warn!(error = %e, "could not read the email outbox"),
                }
            }
            let now = services.now_ms();
            if now - last_prune > 3_600_000 {
                last_prune = now;
                if let Err(e) = email::prune(
                    &services.db,
                    now - EMAIL_KEEP_MS,
                    now - EMAIL_PENDING_KEEP_MS,
                )
                .await
                {
                    warn!(error = %e, "could not prune the email outbox");
                }
            }
        }
        if !shutdown.sleep(SEND_EVERY).await {
            return;
        }
    }
}

async fn send_due(services: &Services, mailer: &Mailer) -> Result<usize, StoreError> {
    let mut sent = 0;
    loop {
        let due = email::due(&services.db, services.now_ms(), SEND_BATCH).await?;
        let full = due.len() as i64 == SEND_BATCH;
        for row in due {
            match mailer.send(&row.to_address, &row.subject, &row.body).await {
                Ok(()) => {
                    email::mark_sent(&services.db, row.id, services.now_ms()).await?;
                    metrics::counter!("tickhub_emails_sent_total").increment(1);
                    sent += 1;
                }
                Err(e) => {
                    let attempts = row.attempts + 1;
                    let retry_at = match &e {
                        MailError::Transient(_) if attempts < notify::MAX_ATTEMPTS => {
                            Some(services.now_ms() + notify::retry_delay_ms(attempts))
                        }
                        _ => None,
                    };
                    if retry_at.is_none() {
                        metrics::counter!("tickhub_emails_failed_total").increment(1);
                    }
                    warn!(email = row.id, attempts, error = %e, given_up = retry_at.is_none(), "email not sent");
                    email::mark_failed(&services.db, row.id, &e.to_string(), retry_at).await?;
                    // The server is away: the rest waits for the next pass.
                    if matches!(e, MailError::Transient(_)) {
                        return Ok(sent);
                    }
                }
            }
        }
        if !full {
            return Ok(sent);
        }
    }
}

/// Alerts each wait that passes its session's SLA, once (docs/notifications.md). Each pass
/// reads only the waits that began since the last pass's edge (less an overlap), through
/// the partial index; after a start or a change of threshold, a session's first pass reads
/// all its current waits once.
pub async fn watch_sla(services: Arc<Services>, mut shutdown: Shutdown) {
    let mut edges: HashMap<(i64, i64), i64> = HashMap::new();
    loop {
        if services.coordinates() {
            match check_sla(&services, &mut edges).await {
                Ok(0) => {}
                Ok(n) => info!(count = n, "SLA breaches alerted"),
                Err(e) => warn!(error = %e, "SLA check failed"),
            }
        } else {
            edges.clear();
        }
        if !shutdown.sleep(SLA_EVERY).await {
            return;
        }
    }
}

async fn check_sla(
    services: &Services,
    edges: &mut HashMap<(i64, i64), i64>,
) -> Result<usize, StoreError> {
    let now = services.now_ms();
    let watched = sla::watched(&services.db).await?;
    edges.retain(|(id, secs), _| {
        watched
            .iter()
            .any(|w| w.id == *id && w.sla_wait_seconds == *secs)
    });
    let mut alerted = 0;
    for w in watched {
        let key = (w.id, w.sla_wait_seconds);
        let upto = now - w.sla_wait_seconds * 1000;
        let mut after = edges.get(&key).copied().unwrap_or(i64::MIN);
        loop {
            let found = sla::breaches(&services.db, w.id, after, upto, SLA_BATCH).await?;
            let full = found.len() as i64 == SLA_BATCH;
            let before = alerted;
            for b in &found {
                let done = services
                    .writer
                    .run((b.clone(), w.sla_wait_seconds), |tx, (b, secs)| {
                        Box::pin(sla::alert(tx, b, *secs))
                    })
                    .await?;
                if done {
                    alerted += 1;
                    metrics::counter!("tickhub_sla_breaches_total").increment(1);
                }
            }
            match found.last() {
                // Those alerted drop out of the next read; a full page of waits that no
                // longer stood (answered meanwhile) ends the pass, the next one reads on.
                Some(last) if full && alerted > before => {
                    after = after.max(last.awaiting_reply_since)
                }
                _ => break,
            }
        }
        edges.insert(key, upto - SLA_OVERLAP_MS);
    }
    Ok(alerted)
}

/// Queues each subscriber's summary of yesterday once the local time reaches
/// `TICKHUB_SUMMARY_HOUR` in `TICKHUB_SUMMARY_TZ` (once per member and day: the email's
/// key is the day).
pub async fn daily_summaries(services: Arc<Services>, mut shutdown: Shutdown) {
    loop {
        if services.coordinates() {
            if let Err(e) = queue_summaries(&services).await {
                warn!(error = %e, "could not queue the daily summaries");
            }
        }
        if !shutdown.sleep(SUMMARY_EVERY).await {
            return;
        }
    }
}

async fn queue_summaries(services: &Services) -> Result<(), StoreError> {
    let cfg = &services.config;
    let Some((day, start, end)) =
        notify::summary_day(services.now_ms(), cfg.summary_tz, cfg.summary_hour)
    else {
        return Ok(());
    };
    for s in recipients::summary_due(&services.db, &day).await? {
        let facts = recipients::summary_facts(&services.db, &s, &day, start, end).await?;
        services
            .writer
            .run((s, facts), |tx, (s, facts)| {
                Box::pin(recipients::queue_summary(tx, s, facts))
            })
            .await?;
    }
    Ok(())
}
