//! A real SMTP server for the tests (mailin-embedded: SMTP over TCP on a port of the test's
//! own, in threads of the test process), which keeps every message it accepted.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The whole message (headers and body) as sent.
    pub data: String,
}

impl Mail {
    /// A header's value (unfolded), e.g. `Subject`.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The body after the headers (lettre may encode it quoted-printable: soft line breaks
    /// are joined).
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        body.replace("=\r\n", "").replace("=3D", "=")
    }
}

#[derive(Clone)]
struct Keeper {
    mails: Arc<Mutex<Vec<Mail>>>,
    current: Option<Mail>,
}

impl Handler for Keeper {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Mail {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        if let Some(m) = &mut self.current {
            m.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(m) = self.current.take() {
            self.mails.lock().expect("mails").push(m);
        }
        response::OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }
}

/// The server, listening until the test process ends.
pub struct Smtp {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Smtp {
    /// Starts a server on `port`.
    pub fn start_on(port: u16) -> Smtp {
        let mails = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("SMTP port");
        let mut server = Server::new(Keeper {
            mails: mails.clone(),
            current: None,
        });
        server
            .with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Smtp { port, mails }
    }

    pub fn start() -> Smtp {
        Self::start_on(super::proc::free_port())
    }

    /// The hub's variables for this server.
    pub fn env(port: u16) -> Vec<(String, String)> {
        vec![
            ("TICKHUB_SMTP_HOST".into(), "127.0.0.1".into()),
            ("TICKHUB_SMTP_PORT".into(), port.to_string()),
            ("TICKHUB_SMTP_TLS".into(), "none".into()),
            (
                "TICKHUB_SMTP_FROM".into(),
                "tickhub <hub@test.tickhub>".into(),
            ),
        ]
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }

    /// The messages to `to` (an address).
    pub fn to(&self, to: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Waits until a message to `to` whose subject contains `subject` arrived.
    pub async fn wait_for(&self, to: &str, subject: &str, wait: Duration) -> Mail {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(m) = self
                .to(to)
                .into_iter()
                .find(|m| m.subject().contains(subject))
            {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no email to {to} with {subject:?} within {wait:?}; received: {:?}",
                self.mails()
                    .iter()
                    .map(|m| (m.to.clone(), m.subject()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
