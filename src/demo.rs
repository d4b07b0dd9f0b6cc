//! `tickhub demo`: the hub on its embedded defaults, a WAHA simulator, a seeded admin and
//! simulated customers writing in, so a newcomer sees a live inbox in one command.

use std::net::SocketAddr;

use rand::RngCore;

use std::sync::Arc;

use crate::config::Config;
use crate::domain::audit::{AuditEntry, Origin};
use crate::domain::{Role, SystemClock};
use crate::store::users::{self, User};
use crate::store::{audit, Db, StoreError, Writer};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("a user with email {0} already exists")]
    Exists(String),
    #[error("{0}")]
    Store(StoreError),
    #[error("{0}")]
    Hash(String),
}

pub async fn create_admin(
    db: &Db,
    email: &str,
    name: &str,
    password: &str,
) -> Result<User, AdminError> {
    let hash = crate::credentials::hash_async(password.to_string())
        .await
        .map_err(|e| AdminError::Hash(e.to_string()))?;
    // A writer of its own (the command line runs no hub): the admin and its `member.create`
    // audit entry, by the command line, in one transaction.
    let writer = Writer::start(db.clone(), Arc::new(SystemClock), Arc::new(|_| {}));
    let input = (email.to_string(), name.to_string(), hash);
    let created = writer
        .run(input, |tx, (email, name, hash)| {
            Box::pin(async move {
                let user = users::create_in(tx, email, name, Role::Admin, hash).await?;
                let entry = AuditEntry::new("member.create", "member", user.id).after(
                    serde_json::json!({"email": user.email, "name": user.name, "role": user.role, "active": true}),
                );
                audit::record_as(tx, None, &Origin::cli(), &entry).await?;
                Ok(user)
            })
        })
        .await;
    writer.close().await;
    created.map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Exists(email.to_string()),
        e => AdminError::Store(e),
    })
}

pub const DEMO_EMAIL: &str = "admin@demo.tickhub";

/// Two WhatsApp numbers, so the seeded members can differ in what they see.
const DEMO_SESSIONS: [&str; 2] = ["default", "sales"];

struct DemoMember {
    email: &'static str,
    name: &'static str,
    role: Role,
    sessions: &'static [&'static str],
    capacity: Option<i64>,
}

/// A manager over both numbers and two agents with one number each: logging in as each
/// shows what the access policy lets them see.
const DEMO_TEAM: [DemoMember; 3] = [
    DemoMember {
        email: "manager@demo.tickhub",
        name: "Mina Manager",
        role: Role::Manager,
        sessions: &["default", "sales"],
        capacity: None,
    },
    DemoMember {
        email: "agent1@demo.tickhub",
        name: "Ali Support",
        role: Role::Agent,
        sessions: &["default"],
        capacity: Some(5),
    },
    DemoMember {
        email: "agent2@demo.tickhub",
        name: "Bea Sales",
        role: Role::Agent,
        sessions: &["sales"],
        capacity: Some(5),
    },
];

/// Creates the member, or on a later demo run sets its password to this run's.
async fn seed_member(
    hub: &crate::actors::Hub,
    admin: &crate::domain::Viewer,
    m: &DemoMember,
    password: &str,
) -> anyhow::Result<()> {
    let input = crate::actors::MemberInput {
        email: m.email.into(),
        name: m.name.into(),
        role: m.role,
        password: password.into(),
        sessions: m.sessions.iter().map(|s| s.to_string()).collect(),
        capacity: m.capacity,
        working_hours: None,
        skills: Vec::new(),
    };
    match hub.create_member(admin, input).await {
        Ok(_) => Ok(()),
        Err(crate::actors::HubError::Store(StoreError::ConflictOn(_))) => {
            let hash = crate::credentials::hash_async(password.into()).await?;
            users::set_password(hub.db(), m.email, &hash).await?;
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("seeding the demo member {}: {e}", m.email)),
    }
}

/// A bot on the `default` number that answers the simulated customers' common questions
/// and hands over when asked for a person (or after two messages it cannot place); the
/// `sales` number has none, so its conversations go straight to the router.
async fn seed_bot(hub: &crate::actors::Hub, admin: &crate::domain::Viewer) -> anyhow::Result<()> {
    use crate::domain::bot::{BusinessHours, MatchKind, TriggerAction, TriggerDef};
    use crate::store::bots::BotFields;
    if !hub.bots(admin, None, 200).await?.is_empty() {
        return Ok(());
    }
    let hours: BusinessHours = serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/London",
        "weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]],
                   "thu": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]], "sat": [["10:00", "14:00"]]},
        "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"],
    }))?;
    let bot = hub
        .create_bot(
            admin,
            crate::actors::BotInput {
                fields: BotFields {
                    name: "Front desk".into(),
                    active: true,
                    greeting: Some("Hi {{contact.first_name}}! I'm the front desk bot. Ask me about prices, opening hours or returns — or write \"agent\" for a person.".into()),
                    fallback: Some("Sorry, I didn't get that. I know about prices, opening hours and returns.".into()),
                    handoff_keywords: vec!["agent".into(), "human".into(), "person".into()],
                    handoff_after_misses: Some(2),
                    handoff_immediately: false,
                    answer_groups: false,
                    business_hours: Some(hours),
                    after_hours_message: Some("We're closed right now; a colleague will answer when we open.".into()),
                    resolve_after_minutes: Some(10),
                },
                sessions: vec!["default".into()],
            },
        )
        .await?;
    let trigger = |kind: MatchKind,
                   keywords: &[&str],
                   priority: i64,
                   response: &str,
                   action: TriggerAction| TriggerDef {
        id: 0,
        match_kind: kind,
        pattern: None,
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        case_sensitive: false,
        accent_sensitive: false,
        priority,
        response: Some(response.into()),
        action,
        tag: None,
        field: None,
        value: None,
        active: true,
    };
    let triggers = [
        trigger(MatchKind::AnyKeyword, &["price", "prices", "cost", "how much", "shipping", "discount"], 10,
            "Shipping is €4.90 in the EU and free over €50; 10% off from 3 items.", TriggerAction::Reply),
        trigger(MatchKind::AnyKeyword, &["open", "opening", "hours", "sunday", "sundays"], 10,
            "Our hours today: {{business.hours_today}} (Mon–Fri 09:00–18:00, Sat 10:00–14:00, closed Sundays).", TriggerAction::Reply),
        trigger(MatchKind::AnyKeyword, &["return", "refund", "exchange"], 10,
            "You can return any item within 30 days — start at example.com/returns.", TriggerAction::Reply),
        trigger(MatchKind::AnyKeyword, &["call me", "call back", "order"], 20,
            "Sure, {{contact.first_name}} — a colleague will pick this up shortly.", TriggerAction::ReplyAndHandoff),
    ];
    for t in triggers {
        hub.create_trigger(admin, bot.id, t).await?;
    }
    Ok(())
}

/// A fresh random password for a demo login (strong enough for `domain::password::check`).
pub fn demo_password() -> String {
    let mut secret = [0u8; 6];
    rand::rng().fill_bytes(&mut secret);
    format!("demo-{}", hex::encode(secret))
}

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    // The simulator takes WAHA's place on WAHA_URL's port when that is local (the default).
    let sim_addr: SocketAddr = match (
        config.waha_url.host_str(),
        config.waha_url.port_or_known_default(),
    ) {
        (Some("localhost" | "127.0.0.1"), Some(port)) => SocketAddr::from(([127, 0, 0, 1], port)),
        _ => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    let sim = crate::waha::sim::start(crate::waha::sim::SimOptions {
        listen: sim_addr,
        api_key: config.waha_api_key.clone(),
        rate: Some(0.4),
        chats: 8,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("starting the WAHA simulator on {sim_addr}: {e}"))?;
    config.waha_url = url::Url::parse(&format!("http://{}", sim.addr))?;

    let app = crate::app::start(config).await?;
    let password = demo_password();
    let db = app.hub.db();
    match create_admin(db, DEMO_EMAIL, "Demo Admin", &password).await {
        Ok(_) => {}
        Err(AdminError::Exists(_)) => {
            // A second demo run on the same database: give the admin a fresh password.
            let hash = crate::credentials::hash_async(password.clone())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            users::set_password(db, DEMO_EMAIL, &hash).await?;
        }
        Err(e) => return Err(e.into()),
    };
    let (admin, _) = users::credentials(db, DEMO_EMAIL)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo admin vanished"))?;
    let admin = app
        .hub
        .viewer(&admin, crate::domain::audit::Origin::cli())
        .await?;
    for session in DEMO_SESSIONS {
        app.hub
            .register_session(&admin, session)
            .await
            .map_err(|e| anyhow::anyhow!("registering the demo WhatsApp session {session}: {e}"))?;
    }
    for m in &DEMO_TEAM {
        seed_member(&app.hub, &admin, m, &password).await?;
    }
    seed_bot(&app.hub, &admin)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo bot: {e}"))?;
    println!();
    println!("  tickhub demo is running");
    println!("  open      http://{}/", app.addr);
    println!("  password  {password}  (the same for everyone below)");
    println!("  {:<26} {:<8} works in", "email", "role");
    println!("  {DEMO_EMAIL:<26} {:<8} every session", "admin");
    for m in &DEMO_TEAM {
        println!(
            "  {:<26} {:<8} {}",
            m.email,
            m.role.as_str(),
            m.sessions.join(", ")
        );
    }
    println!(
        "  WAHA simulator on http://{} — simulated customers write in every few seconds",
        sim.addr
    );
    println!("  the bot \"Front desk\" answers on default (prices, hours, returns; \"agent\" hands over)");
    println!("  stop with Ctrl-C");
    println!();
    app.run_until_signalled().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_passwords_are_strong_enough() {
        for _ in 0..500 {
            let p = super::demo_password();
            assert_eq!(
                crate::domain::password::check(&p, super::DEMO_EMAIL),
                Ok(()),
                "{p}"
            );
        }
    }
}
