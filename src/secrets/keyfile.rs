//! Where the keys come from: `TICKHUB_SECRET_KEY` (and `TICKHUB_SECRET_KEY_PREVIOUS`
//! during a rotation); on a single node with SQLite and no key set, a key generated once
//! into a file beside the database (mode 0600), so that a laptop install works without
//! setup and its secrets are still not in the database file. PostgreSQL (shared by
//! nature, and the only cluster database) never gets a generated key: storing a secret
//! there without `TICKHUB_SECRET_KEY` is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use tracing::info;

use super::{Keyring, SecretKey};
use crate::config::{Config, DatabaseKind};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("TICKHUB_SECRET_KEY: {0}")]
    Current(String),
    #[error("TICKHUB_SECRET_KEY_PREVIOUS: {0}")]
    Previous(String),
    #[error("the secret key file {path}: {message}")]
    File { path: String, message: String },
}

/// The keyring for `config` (creating the SQLite key file when needed).
pub fn load(config: &Config) -> Result<Keyring, KeyError> {
    let previous = config
        .secret_key_previous
        .iter()
        .map(|k| SecretKey::from_base64(k).map_err(KeyError::Previous))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(k) = &config.secret_key {
        let current = SecretKey::from_base64(k).map_err(KeyError::Current)?;
        return Ok(Keyring::new(Some(current), previous));
    }
    let current = match sqlite_key_path(config) {
        Some(path) => Some(from_file(&path)?),
        None => None,
    };
    Ok(Keyring::new(current, previous))
}

/// `<database file>.secret-key` for a SQLite file database.
fn sqlite_key_path(config: &Config) -> Option<PathBuf> {
    if config.database_kind != DatabaseKind::Sqlite {
        return None;
    }
    let rest = config
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| config.database_url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    if file.is_empty() || file.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(format!("{file}.secret-key")))
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> KeyError {
    KeyError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn from_file(path: &Path) -> Result<SecretKey, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::from_base64(&text).map_err(|m| file_error(path, m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = SecretKey::generate();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            match opts.open(path) {
                Ok(mut f) => {
                    f.write_all(text.as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(|e| file_error(path, e))?;
                    info!(path = %path.display(), key_id = key.id(), "generated the secret key file (set TICKHUB_SECRET_KEY to use your own; keep this file with backups of the database)");
                    Ok(key)
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => from_file(path),
                Err(e) => Err(file_error(path, e)),
            }
        }
        Err(e) => Err(file_error(path, e)),
    }
}
