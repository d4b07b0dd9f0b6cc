//! A JSON body read in two steps: JSON that cannot be read at all is a 400 (or 413/415,
//! as for every body), and a well-formed body with a value of the wrong kind is a 422
//! naming the field (contract §3a), so a client learns which field to fix.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::FieldError;

pub struct Checked<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Checked<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(ApiError::BadRequest("the body must be a JSON object".into()).into());
            }
            serde_path_to_error::deserialize(value)
                .map(Checked)
                .map_err(|e| {
                    let path = e.path().to_string();
                    let inner = e.into_inner().to_string();
                    if path != "." {
                        return ApiError::Invalid(FieldError::new(path, inner)).into();
                    }
                    // A field missing from the top level is reported with the root as its
                    // path; serde_json's error holds the name only in its text.
                    match missing_field(&inner) {
                        Some(field) => ApiError::Invalid(FieldError {
                            field: field.to_string(),
                            reason: "required".into(),
                        })
                        .into(),
                        None => ApiError::Unprocessable(inner).into(),
                    }
                })
        })
    }
}

/// `assignee_id` from serde's "missing field `assignee_id`".
fn missing_field(message: &str) -> Option<&str> {
    let name = message.strip_prefix("missing field `")?;
    name.split_once('`').map(|(name, _)| name)
}

/// For a field where `null` means "clear it" and leaving it out means "keep it":
/// `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
