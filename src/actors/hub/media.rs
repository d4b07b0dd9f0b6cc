//! A message's media, fetched from WAHA for whoever may see the message.

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::Viewer;
use crate::waha::client::WahaError;
use crate::waha::media::MediaFile;

/// Why a message's media could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No such message for this viewer, no media, or none the hub may fetch.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// WAHA failed (it did not answer, or answered with an error).
    #[error(transparent)]
    Waha(WahaError),
}

/// The file as WAHA sends it, with what the message says about it.
pub struct MessageMedia {
    pub file: MediaFile,
    /// The type the message announced (for when WAHA's answer has none).
    pub mimetype: Option<String>,
    pub filename: Option<String>,
}

impl Hub {
    pub async fn message_media(&self, v: &Viewer, id: i64) -> Result<MessageMedia, MediaError> {
        let m = self.message(v, id).await?;
        let none = |why: &str| HubError::NotFound(format!("media of message {id} ({why})"));
        let media = m.media.ok_or_else(|| none("it has none"))?;
        let url = media
            .url
            .as_deref()
            .ok_or_else(|| none("WAHA gave no URL"))?;
        let Some(url) = self.services.waha.media_url(url) else {
            // WAHA builds media URLs from its own base URL (WAHA_BASE_URL); one that is not
            // WAHA_URL's is never followed.
            tracing::warn!(
                message_id = id,
                "a media URL is not a file of the configured WAHA (WAHA_URL): not fetched"
            );
            return Err(none("its URL is not a file of the configured WAHA").into());
        };
        match self.services.waha.fetch_media(url).await {
            Ok(file) => Ok(MessageMedia {
                file,
                mimetype: media.mimetype,
                filename: media.filename,
            }),
            // WAHA keeps files for a limited time.
            Err(e) if e.is_not_found() => Err(none("WAHA no longer has it").into()),
            Err(e) => Err(MediaError::Waha(e)),
        }
    }
}
