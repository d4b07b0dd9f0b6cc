//! A real SMTP server for the tests (mailin-embedded: SMTP over TCP on a port of the test's
//! own, in threads of the test process), which keeps every message it accepted. It can
//! also speak STARTTLS with a certificate from a CA made for the test and ask for a login
//! (`start_with_login`), which it then offers only over TLS.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{response, AuthMechanism, Handler, Response, Server, SslConfig};

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
    /// The user and password a login must give (`None`: no login asked).
    login: Option<(String, String)>,
    /// Each login tried: the user, the password and whether it was accepted.
    logins: Arc<Mutex<Vec<(String, String, bool)>>>,
}

impl Keeper {
    fn check_login(&mut self, user: &str, password: &str) -> Response {
        let ok = self
            .login
            .as_ref()
            .is_some_and(|(u, p)| u == user && p == password);
        self.logins
            .lock()
            .expect("logins")
            .push((user.to_string(), password.to_string(), ok));
        if ok {
            response::AUTH_OK
        } else {
            response::INVALID_CREDENTIALS
        }
    }
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

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.check_login(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check_login(user, password)
    }
}

/// A CA made for one test, and a certificate it signed for 127.0.0.1 and localhost, as
/// PEM files in a temporary directory.
pub struct TestCa {
    pub dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tickhub test CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().expect("server key");
        let server = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("server params")
            .signed_by(&key, &issuer)
            .expect("server certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("ca.pem");
        std::fs::write(dir.path().join("cert.pem"), server.pem()).expect("cert.pem");
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).expect("key.pem");
        TestCa { dir }
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }
}

/// The server, listening until the test process ends.
pub struct Smtp {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    logins: Arc<Mutex<Vec<(String, String, bool)>>>,
}

impl Smtp {
    /// Starts a server on `port`.
    pub fn start_on(port: u16) -> Smtp {
        Self::serve(port, None, SslConfig::None)
    }

    /// Starts a server that speaks STARTTLS with `ca`'s certificate and takes mail only
    /// after a login as `user` with `password` (PLAIN or LOGIN, offered only over TLS).
    pub fn start_with_login(ca: &TestCa, user: &str, password: &str) -> Smtp {
        // The test process links rustls with more than one crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self::serve(
            super::proc::free_port(),
            Some((user.to_string(), password.to_string())),
            SslConfig::SelfSigned {
                cert_path: ca.path("cert.pem"),
                key_path: ca.path("key.pem"),
            },
        )
    }

    fn serve(port: u16, login: Option<(String, String)>, ssl: SslConfig) -> Smtp {
        let mails = Arc::new(Mutex::new(Vec::new()));
        let logins = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("SMTP port");
        let asks_login = login.is_some();
        let mut server = Server::new(Keeper {
            mails: mails.clone(),
            current: None,
            login,
            logins: logins.clone(),
        });
        server
            .with_name("smtp.test")
            .with_ssl(ssl)
            .expect("TLS settings")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        if asks_login {
            server
                .with_auth(AuthMechanism::Plain)
                .with_auth(AuthMechanism::Login);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Smtp {
            port,
            mails,
            logins,
        }
    }

    /// Each login tried so far: user, password, accepted.
    pub fn logins(&self) -> Vec<(String, String, bool)> {
        self.logins.lock().expect("logins").clone()
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
