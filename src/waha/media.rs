//! Media files WAHA keeps for messages, fetched for agents' browsers. A webhook names a
//! file by URL, and a webhook is outside input: the hub fetches only URLs of WAHA's own
//! file store, on the WAHA it is configured with (scheme, host and port of `WAHA_URL`,
//! under its path, then `/api/files/`). Any other host is never called (no SSRF through
//! a forged webhook), and no other WAHA endpoint is read with the API key attached (its
//! session list would hand a browser WAHA's configuration).

use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use url::Url;

use super::client::{WahaClient, WahaError};

/// How long a whole file may take to arrive once WAHA has answered (a video over a slow
/// link); WAHA's answer itself must come within the client's usual timeout.
const BODY_TIMEOUT: Duration = Duration::from_secs(300);

/// The URL to fetch for `candidate` when it is a file in the store of the WAHA at `base`;
/// `None` otherwise.
pub fn file_url(base: &Url, candidate: &str) -> Option<Url> {
    let mut url = Url::parse(candidate).ok()?;
    let same_origin = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    if !same_origin || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    if url.query().is_some() {
        return None;
    }
    let prefix = format!("{}/api/files/", base.path().trim_end_matches('/'));
    let rest = url.path().strip_prefix(&prefix)?;
    // The parser has already resolved `..` (written plainly or as `%2e`); an encoded
    // separator or dot could still be decoded into a way out by the file server.
    let lower = rest.to_ascii_lowercase();
    let sneaky = ["%2f", "%5c", "%2e", "\\"]
        .iter()
        .any(|s| lower.contains(s));
    if rest.is_empty() || rest.ends_with('/') || sneaky {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// A file WAHA is sending: its type and length when WAHA says, and the bytes as they come.
pub struct MediaFile {
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    response: reqwest::Response,
}

impl MediaFile {
    /// The bytes as they arrive; an error cuts the download off.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::unfold(Some(self.response), |state| async move {
            let mut response = state?;
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "WAHA stopped sending a media file");
                    Some((Err(std::io::Error::other(e)), None))
                }
            }
        })
    }
}

impl WahaClient {
    /// `candidate` (a media URL from a webhook) when it may be fetched: see [`file_url`].
    pub fn media_url(&self, candidate: &str) -> Option<Url> {
        file_url(self.base_url()?, candidate)
    }

    /// Starts fetching a file (a URL from [`WahaClient::media_url`]) with the API key.
    pub async fn fetch_media(&self, url: Url) -> Result<MediaFile, WahaError> {
        let req = self
            .request(reqwest::Method::GET, url)
            .timeout(BODY_TIMEOUT);
        let response = tokio::time::timeout(self.timeout(), req.send())
            .await
            .map_err(|_| WahaError::Transport("WAHA did not answer in time".into()))?
            .map_err(|e| WahaError::Transport(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(WahaError::Http {
                status: status.as_u16(),
                body: body.chars().take(500).collect(),
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(MediaFile {
            content_type,
            content_length: response.content_length(),
            response,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::file_url;
    use url::Url;

    fn base() -> Url {
        Url::parse("http://waha.internal:3000").unwrap()
    }

    #[test]
    fn files_of_the_configured_waha_are_fetched() {
        for ok in [
            "http://waha.internal:3000/api/files/abc.jpeg",
            "http://WAHA.internal:3000/api/files/default/true_1@c.us_AB.oga",
            "http://waha.internal:3000/api/files/x.png#frag",
        ] {
            let u = file_url(&base(), ok).unwrap_or_else(|| panic!("{ok} refused"));
            assert!(u.fragment().is_none());
        }
        let prefixed = Url::parse("https://hub.example/waha/").unwrap();
        assert!(file_url(&prefixed, "https://hub.example/waha/api/files/a.png").is_some());
        assert!(file_url(&prefixed, "https://hub.example/api/files/a.png").is_none());
        let default_port = Url::parse("https://waha.example").unwrap();
        assert!(file_url(&default_port, "https://waha.example:443/api/files/a.png").is_some());
    }

    #[test]
    fn nothing_else_is_fetched() {
        for bad in [
            // Other hosts, ports and schemes: SSRF.
            "http://169.254.169.254/api/files/a.png",
            "http://waha.internal:3001/api/files/a.png",
            "https://waha.internal:3000/api/files/a.png",
            "http://waha.internal.evil.test:3000/api/files/a.png",
            "http://user:pw@waha.internal:3000/api/files/a.png",
            "file:///etc/passwd",
            "not a url",
            // WAHA's other endpoints, which would answer with the API key's rights.
            "http://waha.internal:3000/api/sessions",
            "http://waha.internal:3000/api/files/../sessions",
            "http://waha.internal:3000/api/files/%2e%2e/sessions",
            "http://waha.internal:3000/api/files/..%2fsessions",
            "http://waha.internal:3000/api/files/a%5c..%5csessions",
            "http://waha.internal:3000/api/files/",
            "http://waha.internal:3000/api/files/a.png?redirect=http://x",
            "http://waha.internal:3000/api/filesx/a.png",
        ] {
            assert!(file_url(&base(), bad).is_none(), "{bad} was allowed");
        }
    }
}
