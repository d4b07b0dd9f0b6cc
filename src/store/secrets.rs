//! The hub's own secrets (`hub_secrets`), sealed with the keyring before they are stored
//! and opened when read; and the rotation that re-seals every stored secret (these and
//! the outbound webhook secrets) under the current key, in one transaction.
//!
//! Names in use: `waha.api_key`, `smtp.password`.

use super::{Db, Result, Tx};
use crate::secrets::Keyring;

pub const WAHA_API_KEY: &str = "waha.api_key";
pub const SMTP_PASSWORD: &str = "smtp.password";

/// The secret `name`, opened; `None` when it is not set.
pub async fn get(db: &Db, keys: &Keyring, name: &str) -> Result<Option<String>> {
    let v: Option<String> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT value FROM hub_secrets WHERE name = $1")
        .bind(name).fetch_optional(p).await)?;
    Ok(v.map(|v| keys.open(&v)).transpose()?)
}

/// Whether `name` is set (without opening it).
pub async fn is_set(db: &Db, name: &str) -> Result<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM hub_secrets WHERE name = $1")
        .bind(name).fetch_one(p).await)?;
    Ok(n > 0)
}

/// Seals and stores `value` as `name` (`None`: removes it), outside the writer.
pub async fn put(db: &Db, keys: &Keyring, name: &str, value: Option<&str>, now: i64) -> Result<()> {
    let sealed = value.map(|v| keys.seal(v)).transpose()?;
    match sealed {
        Some(s) => on_write_pool!(db, p => sqlx::query(
            "INSERT INTO hub_secrets (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
            .bind(name).bind(s).bind(now).execute(p).await.map(|r| r.rows_affected()))?,
        None => on_write_pool!(db, p => sqlx::query("DELETE FROM hub_secrets WHERE name = $1")
            .bind(name).execute(p).await.map(|r| r.rows_affected()))?,
    };
    Ok(())
}

/// `put` inside a writer transaction (beside its audit entry); `sealed` is already sealed.
pub async fn put_in(tx: &mut Tx, name: &str, sealed: Option<&str>) -> Result<()> {
    let now = tx.now;
    match sealed {
        Some(s) => on_tx!(tx, c => sqlx::query(
            "INSERT INTO hub_secrets (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
            .bind(name).bind(s).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?,
        None => on_tx!(tx, c => sqlx::query("DELETE FROM hub_secrets WHERE name = $1")
            .bind(name).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    };
    Ok(())
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Values re-sealed under the current key.
    pub resealed: usize,
    /// Values already under it.
    pub current: usize,
}

/// Re-seals every stored secret under the keyring's current key, reading old ones with
/// any key it holds; all or nothing (one transaction). A value no key opens fails the
/// whole rotation, naming the key id it needs.
pub async fn rotate(db: &Db, keys: &Keyring) -> Result<Rotated> {
    if !keys.has_key() {
        return Err(crate::secrets::SecretError::NoKey.into());
    }
    let mut out = Rotated::default();
    on_write_pool!(db, p => {
        let mut tx = p.begin().await?;
        for (select, update) in [
            ("SELECT name, value FROM hub_secrets ORDER BY name",
             "UPDATE hub_secrets SET value = $2 WHERE name = $1"),
            ("SELECT CAST(id AS TEXT), secret FROM webhook_subscriptions ORDER BY id",
             "UPDATE webhook_subscriptions SET secret = $2 WHERE CAST(id AS TEXT) = $1"),
        ] {
            let rows: Vec<(String, String)> = sqlx::query_as(select).fetch_all(&mut *tx).await?;
            for (k, v) in rows {
                if keys.is_current(&v) {
                    out.current += 1;
                    continue;
                }
                let plain = keys.open(&v)?;
                let sealed = keys.seal(&plain)?;
                sqlx::query(update).bind(&k).bind(sealed).execute(&mut *tx).await?;
                out.resealed += 1;
            }
        }
        tx.commit().await?;
        Ok::<_, super::StoreError>(())
    })?;
    Ok(out)
}
