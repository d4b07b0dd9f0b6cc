//! Integrations: outbound webhook subscriptions and their delivery log, API keys, and the
//! hub's stored WAHA API key. Admins only (`Viewer::may_manage_integrations`); each change
//! is written with its audit entry in one writer transaction, and no secret reaches the
//! audit log.

use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::access::api_keys::{parse_scopes, Scope};
use crate::domain::audit::AuditEntry;
use crate::domain::hook::{check_secret, check_url, parse_events};
use crate::domain::{FieldError, Viewer};
use crate::store::api_keys::{self, ApiKey, NewKey};
use crate::store::hook_queue::{self, Delivery};
use crate::store::hooks::{self, Patch, Subscription};
use crate::store::{audit, secrets};

fn denied(d: crate::domain::Denied) -> HubError {
    HubError::denied(d, || "integrations".into())
}

fn no_subscription(id: i64) -> HubError {
    HubError::NotFound(format!("webhook subscription {id}"))
}

/// A change to a subscription: `None` keeps the field.
#[derive(Debug, Default)]
pub struct SubscriptionPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub secret: Option<String>,
}

/// A new API key: the key itself appears here only.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key, shown this once: send it as `Authorization: Bearer <key>` or `X-Api-Key`.
    pub key: String,
}

/// Whether the hub holds a WAHA API key of its own, and which key calls carry.
#[derive(Debug, Serialize, ToSchema)]
pub struct WahaSettings {
    /// A key is stored in the hub's settings (encrypted).
    pub api_key_set: bool,
    /// Where the key calls carry comes from: `settings`, `environment` (`WAHA_API_KEY`)
    /// or `none`.
    pub api_key_source: String,
}

/// Where the SMTP password comes from (the rest of the SMTP settings are the
/// environment's, `TICKHUB_SMTP_*`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SmtpSettings {
    /// `TICKHUB_SMTP_HOST` is set: emails are sent.
    pub configured: bool,
    /// A password is stored in the hub's settings (encrypted).
    pub password_set: bool,
    /// Where the password used comes from: `settings`, `environment`
    /// (`TICKHUB_SMTP_PASSWORD`) or `none`.
    pub password_source: String,
}

/// The longest name of an API key.
const MAX_NAME: usize = 100;
/// The longest WAHA API key accepted.
const MAX_WAHA_KEY: usize = 512;

impl Hub {
    pub async fn create_subscription(
        &self,
        v: &Viewer,
        url: String,
        events: Vec<String>,
        secret: String,
    ) -> Result<Subscription, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let url = check_url(&url)?.to_string();
        let events = parse_events(&events)?;
        check_secret(&secret)?;
        let sealed = self
            .services
            .keys
            .seal(&secret)
            .map_err(crate::store::StoreError::from)?;
        let sub = self
            .services
            .writer
            .run(
                (v.clone(), url, events, sealed),
                |tx, (v, url, events, sealed)| {
                    Box::pin(async move {
                        let s = hooks::insert(tx, url, events, sealed, v.user_id).await?;
                        let entry = AuditEntry::new(
                            "webhook_subscription.create",
                            "webhook_subscription",
                            s.id,
                        )
                        .after(json!({"url": s.url, "events": s.events}));
                        audit::record(tx, v, &entry).await?;
                        Ok(s)
                    })
                },
            )
            .await?;
        Ok(sub)
    }

    pub async fn subscriptions(
        &self,
        v: &Viewer,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Subscription>, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        Ok(hooks::list(self.db(), after, limit).await?)
    }

    pub async fn subscription(&self, v: &Viewer, id: i64) -> Result<Subscription, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        hooks::get(self.db(), id)
            .await?
            .ok_or_else(|| no_subscription(id))
    }

    pub async fn update_subscription(
        &self,
        v: &Viewer,
        id: i64,
        p: SubscriptionPatch,
    ) -> Result<Subscription, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let url = p
            .url
            .as_deref()
            .map(check_url)
            .transpose()?
            .map(|u| u.to_string());
        let events = p.events.as_deref().map(parse_events).transpose()?;
        if let Some(s) = &p.secret {
            check_secret(s)?;
        }
        let sealed = p
            .secret
            .as_deref()
            .map(|s| self.services.keys.seal(s))
            .transpose()
            .map_err(crate::store::StoreError::from)?;
        let patch = Patch {
            url,
            events,
            active: p.active,
            sealed_secret: sealed,
        };
        let updated = self
            .services
            .writer
            .run((v.clone(), id, patch), |tx, (v, id, patch)| {
                Box::pin(async move {
                    let Some(before) = hooks::get_in(tx, *id).await? else {
                        return Ok(None);
                    };
                    let Some(after) = hooks::update(tx, *id, patch).await? else {
                        return Ok(None);
                    };
                    let entry = AuditEntry::new("webhook_subscription.update", "webhook_subscription", *id)
                        .before(json!({"url": before.url, "events": before.events, "active": before.active}))
                        .after(json!({"url": after.url, "events": after.events, "active": after.active}));
                    audit::record(tx, v, &entry).await?;
                    if patch.sealed_secret.is_some() {
                        let entry = AuditEntry::new(
                            "webhook_subscription.rotate_secret",
                            "webhook_subscription",
                            *id,
                        );
                        audit::record(tx, v, &entry).await?;
                    }
                    Ok(Some(after))
                })
            })
            .await?;
        updated.ok_or_else(|| no_subscription(id))
    }

    pub async fn delete_subscription(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let gone = self
            .services
            .writer
            .run((v.clone(), id), |tx, (v, id)| {
                Box::pin(async move {
                    let Some(before) = hooks::get_in(tx, *id).await? else {
                        return Ok(false);
                    };
                    hooks::delete(tx, *id).await?;
                    let entry =
                        AuditEntry::new("webhook_subscription.delete", "webhook_subscription", *id)
                            .before(json!({"url": before.url, "events": before.events}));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if gone {
            Ok(())
        } else {
            Err(no_subscription(id))
        }
    }

    pub async fn deliveries(
        &self,
        v: &Viewer,
        id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>, HubError> {
        self.subscription(v, id).await?;
        Ok(hook_queue::list(self.db(), id, before, limit).await?)
    }

    pub async fn replay_delivery(
        &self,
        v: &Viewer,
        id: i64,
        delivery_id: i64,
    ) -> Result<Delivery, HubError> {
        self.subscription(v, id).await?;
        hook_queue::replay(self.db(), id, delivery_id, self.now_ms())
            .await?
            .ok_or_else(|| {
                HubError::NotFound(format!(
                    "delivery {delivery_id} of webhook subscription {id}"
                ))
            })
    }

    // ---- API keys

    pub async fn create_api_key(
        &self,
        v: &Viewer,
        name: String,
        scopes: Vec<String>,
        expires_at: Option<i64>,
    ) -> Result<CreatedApiKey, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.contains('\0') {
            return Err(FieldError::new("name", "1 to 100 characters").into());
        }
        let scopes: Vec<Scope> = parse_scopes(&scopes)?;
        if let Some(at) = expires_at {
            if at <= self.now_ms() {
                return Err(FieldError::new(
                    "expires_at",
                    "must be in the future (milliseconds since the Unix epoch)",
                )
                .into());
            }
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        // `thk_api_` tells a key from a login token (`thk_` and hex) at a glance.
        let key = format!("thk_api_{}", hex::encode(bytes));
        let prefix = key[..16].to_string();
        let created = self
            .services
            .writer
            .run(
                (v.clone(), name, scopes, expires_at, key.clone(), prefix),
                |tx, (v, name, scopes, expires_at, key, prefix)| {
                    Box::pin(async move {
                        let k = api_keys::insert(
                            tx,
                            &NewKey {
                                name,
                                key,
                                prefix,
                                scopes,
                                user_id: v.user_id,
                                expires_at: *expires_at,
                            },
                        )
                        .await?;
                        let entry = AuditEntry::new("api_key.create", "api_key", k.id).after(
                            json!({"name": k.name, "prefix": k.prefix, "scopes": k.scopes, "expires_at": k.expires_at}),
                        );
                        audit::record(tx, v, &entry).await?;
                        Ok(k)
                    })
                },
            )
            .await?;
        Ok(CreatedApiKey {
            api_key: created,
            key,
        })
    }

    pub async fn api_keys(
        &self,
        v: &Viewer,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ApiKey>, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        Ok(api_keys::list(self.db(), before, limit).await?)
    }

    pub async fn api_key(&self, v: &Viewer, id: i64) -> Result<ApiKey, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        api_keys::get(self.db(), id)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("API key {id}")))
    }

    pub async fn revoke_api_key(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let found = self
            .services
            .writer
            .run((v.clone(), id), |tx, (v, id)| {
                Box::pin(async move {
                    let Some(k) = api_keys::revoke_in(tx, *id).await? else {
                        return Ok(false);
                    };
                    let entry = AuditEntry::new("api_key.revoke", "api_key", *id)
                        .before(json!({"name": k.name, "prefix": k.prefix, "scopes": k.scopes}));
                    audit::record(tx, v, &entry).await?;
                    Ok(true)
                })
            })
            .await?;
        if found {
            Ok(())
        } else {
            Err(HubError::NotFound(format!("API key {id}")))
        }
    }

    // ---- settings

    pub async fn waha_settings(&self, v: &Viewer) -> Result<WahaSettings, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let set = secrets::is_set(self.db(), secrets::WAHA_API_KEY).await?;
        let source = if set {
            "settings"
        } else if self.config().waha_api_key.is_some() {
            "environment"
        } else {
            "none"
        };
        Ok(WahaSettings {
            api_key_set: set,
            api_key_source: source.into(),
        })
    }

    /// Stores (or, with `None`, removes) the WAHA API key; this node uses it at once, the
    /// others within seconds (`app::background::refresh_settings`).
    pub async fn put_waha_settings(
        &self,
        v: &Viewer,
        api_key: Option<String>,
    ) -> Result<WahaSettings, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        check_setting("api_key", api_key.as_deref(), MAX_WAHA_KEY)?;
        let actions = ("settings.waha_api_key.set", "settings.waha_api_key.remove");
        self.put_setting(
            v,
            secrets::WAHA_API_KEY,
            api_key.as_deref(),
            actions,
            "waha",
        )
        .await?;
        self.services.waha.set_api_key(api_key);
        self.waha_settings(v).await
    }

    pub async fn smtp_settings(&self, v: &Viewer) -> Result<SmtpSettings, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        let set = secrets::is_set(self.db(), secrets::SMTP_PASSWORD).await?;
        let smtp = self.config().smtp.as_ref();
        let source = if set {
            "settings"
        } else if smtp.is_some_and(|s| s.password.is_some()) {
            "environment"
        } else {
            "none"
        };
        Ok(SmtpSettings {
            configured: smtp.is_some(),
            password_set: set,
            password_source: source.into(),
        })
    }

    /// Stores (or, with `None`, removes) the SMTP password; the email sender reads it
    /// before its next email (`app::notifications::send_emails`).
    pub async fn put_smtp_settings(
        &self,
        v: &Viewer,
        password: Option<String>,
    ) -> Result<SmtpSettings, HubError> {
        v.may_manage_integrations().map_err(denied)?;
        check_setting("password", password.as_deref(), MAX_WAHA_KEY)?;
        let actions = (
            "settings.smtp_password.set",
            "settings.smtp_password.remove",
        );
        self.put_setting(
            v,
            secrets::SMTP_PASSWORD,
            password.as_deref(),
            actions,
            "smtp",
        )
        .await?;
        self.smtp_settings(v).await
    }

    /// Seals and stores the secret setting `name` (`None`: removes it) with its audit entry
    /// (`actions`: on setting, on removing; never the value).
    async fn put_setting(
        &self,
        v: &Viewer,
        name: &'static str,
        value: Option<&str>,
        actions: (&'static str, &'static str),
        target: &'static str,
    ) -> Result<(), HubError> {
        let sealed = value
            .map(|k| self.services.keys.seal(k))
            .transpose()
            .map_err(crate::store::StoreError::from)?;
        self.services
            .writer
            .run((v.clone(), sealed), move |tx, (v, sealed)| {
                Box::pin(async move {
                    secrets::put_in(tx, name, sealed.as_deref()).await?;
                    let action = if sealed.is_some() {
                        actions.0
                    } else {
                        actions.1
                    };
                    audit::record(tx, v, &AuditEntry::new(action, "settings", target)).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }
}

/// A secret setting's value: 1 to `max` characters, no control characters.
fn check_setting(field: &str, value: Option<&str>, max: usize) -> Result<(), HubError> {
    match value {
        Some(k) if k.is_empty() || k.len() > max || k.chars().any(char::is_control) => {
            Err(FieldError::new(
                field,
                format!(
                    "1 to {max} characters, no control characters (null removes the stored value)"
                ),
            )
            .into())
        }
        _ => Ok(()),
    }
}
