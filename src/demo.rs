//! `tickhub demo`: the hub on its embedded defaults, a WAHA simulator, a seeded admin and
//! simulated customers writing in, so a newcomer sees a live inbox in one command.

use std::net::SocketAddr;

use rand::RngCore;

use crate::config::Config;
use crate::domain::{Clock, Role, SystemClock};
use crate::store::users::{self, User};
use crate::store::{Db, StoreError};

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
    users::create(db, email, name, Role::Admin, &hash, SystemClock.now_ms())
        .await
        .map_err(|e| match e {
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
        Err(crate::actors::HubError::Store(StoreError::Conflict(_))) => {
            let hash = crate::credentials::hash_async(password.into()).await?;
            users::set_password(hub.db(), m.email, &hash).await?;
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("seeding the demo member {}: {e}", m.email)),
    }
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
