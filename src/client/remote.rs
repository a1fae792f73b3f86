//! The client's transport to `dms serve`: HTTP/1.1 over the Unix socket or TLS (rustls, ring),
//! one connection kept for every call a command makes. A call is its envelope as JSON, POSTed
//! to `/v1/<op>`; the reply is read a JSON line at a time and handed on as it comes. If the
//! connection drops before the reply, the call is sent once more with the same call ID (the
//! server answers a repeated ID with the first reply, never doing the call twice); when the
//! server cannot be reached or stops answering, the command fails with exit 9, saying whether
//! the call may have been done.

use crate::api::{Envelope, Part, Sink, WireError};
use crate::error::{usage, DmsError, Kind};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for a connection.
const CONNECT: Duration = Duration::from_secs(5);
/// Silence after which the server is taken to have stopped answering (it sends a line at
/// least every 5 s while a call works).
const SILENCE: Duration = Duration::from_secs(30);

/// A server as `--server` names it.
#[derive(Debug, Clone)]
pub enum Address {
    Unix(PathBuf),
    Https { host: String, port: u16 },
}

impl Address {
    pub fn parse(url: &str) -> anyhow::Result<Address> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(usage("--server unix:PATH: the socket's path is missing").into());
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = url.strip_prefix("https://") {
            let rest = rest.trim_end_matches('/');
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() => (
                    h.trim_start_matches('[').trim_end_matches(']').to_string(),
                    p.parse::<u16>().map_err(|_| usage(format!("--server {url}: the port is not a number")))?,
                ),
                _ => (rest.to_string(), 443),
            };
            if host.is_empty() || host.contains(['/', ':', '@', '?', '#']) && !rest.starts_with('[') {
                return Err(usage(format!("--server {url}: https://HOST:PORT")).into());
            }
            return Ok(Address::Https { host, port });
        }
        if url.starts_with("http://") {
            return Err(usage(format!(
                "--server {url}: plain HTTP is refused (secrets travel in the calls): use https://HOST:PORT or unix:PATH"
            ))
            .into());
        }
        Err(usage(format!("--server {url}: unix:PATH or https://HOST:PORT")).into())
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Https { host, port } => write!(f, "https://{host}:{port}"),
        }
    }
}

pub struct Remote {
    address: Address,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    rt: tokio::runtime::Runtime,
    conn: Option<SendRequest<Full<Bytes>>>,
}

/// Why a call did not get its reply.
enum Failed {
    /// Nothing reached the server, or the connection dropped before any of the reply came.
    NoReply(String),
    /// Part of the reply came, then the server stopped.
    Partway(String),
    /// An answer (an error the server gave, or the reply's own failure).
    Answer(anyhow::Error),
}

fn unreachable(address: &Address, why: &str, maybe_done: bool) -> anyhow::Error {
    let done = if maybe_done {
        "the call may have been done: check before repeating it (e.g. `dms request list`, `dms whoami`)"
    } else {
        "the call was not done"
    };
    DmsError::new(Kind::Unreachable, format!("cannot reach the dms server at {address} ({why}): {done}")).into()
}

impl Remote {
    pub fn new(url: &str, ca_file: Option<&Path>) -> anyhow::Result<Remote> {
        let address = Address::parse(url)?;
        let tls = match &address {
            Address::Https { .. } => Some(Arc::new(client_tls(ca_file)?)),
            Address::Unix(_) => None,
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Remote { address, tls, rt, conn: None })
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Send one call and hand its reply to `sink` as it comes; once more on a dropped
    /// connection.
    pub fn call(&mut self, env: &Envelope, sink: &mut dyn Sink) -> anyhow::Result<()> {
        let mut body = serde_json::to_value(env)?;
        let op = body.get("op").and_then(|o| o.as_str()).unwrap_or_default().to_string();
        if let Some(o) = body.as_object_mut() {
            o.remove("op");
        }
        let body = Bytes::from(serde_json::to_vec(&body)?);
        let drop_once = std::env::var_os("DMS_TEST_DROP_REPLY").is_some_and(|v| v == "1");
        let mut tried = 0;
        loop {
            tried += 1;
            let result = self.once(&op, body.clone(), sink, drop_once && tried == 1);
            match result {
                Ok(()) => return Ok(()),
                Err(Failed::Answer(e)) => return Err(e),
                Err(Failed::NoReply(why)) if tried == 1 => {
                    // Sent again on a new connection, with the same call ID.
                    self.conn = None;
                    let _ = why;
                }
                Err(Failed::NoReply(why)) => return Err(unreachable(&self.address, &why, !env.call.reads_only())),
                Err(Failed::Partway(why)) => {
                    self.conn = None;
                    return Err(unreachable(&self.address, &format!("it stopped answering part-way: {why}"), true));
                }
            }
        }
    }

    fn once(&mut self, op: &str, body: Bytes, sink: &mut dyn Sink, drop_reply: bool) -> Result<(), Failed> {
        let address = self.address.clone();
        let tls = self.tls.clone();
        let rt = &self.rt;
        let conn = &mut self.conn;
        rt.block_on(async move {
            if conn.as_ref().is_none_or(|c| c.is_closed()) {
                *conn = Some(connect(&address, tls.clone()).await?);
            }
            let sender = conn.as_mut().expect("connected above");
            // A kept connection the server closed while idle (30 s): a new one.
            if sender.ready().await.is_err() {
                *conn = Some(connect(&address, tls).await?);
            }
            let sender = conn.as_mut().expect("connected above");
            let req = hyper::Request::builder()
                .method(hyper::Method::POST)
                .uri(format!("/{}/{op}", crate::api::VERSION))
                .header(hyper::header::HOST, "dms")
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(body))
                .map_err(|e| Failed::Answer(e.into()))?;
            let pending = sender.send_request(req);
            if drop_reply {
                // Test hook: the connection goes as the reply is on its way.
                tokio::time::sleep(Duration::from_millis(300)).await;
                drop(pending);
                *conn = None;
                return Err(Failed::NoReply("dropped on purpose (DMS_TEST_DROP_REPLY)".into()));
            }
            let resp = match tokio::time::timeout(SILENCE, pending).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Err(Failed::NoReply(e.to_string())),
                Err(_) => return Err(Failed::Partway("no answer for 30 s".into())),
            };
            let status = resp.status();
            let mut body = resp.into_body();
            if status != hyper::StatusCode::OK {
                let bytes = match tokio::time::timeout(SILENCE, body.collect()).await {
                    Ok(Ok(b)) => b.to_bytes(),
                    _ => Bytes::new(),
                };
                return Err(Failed::Answer(status_error(status, &bytes)));
            }
            let mut line = Vec::new();
            let mut parts = 0usize;
            loop {
                let frame = match tokio::time::timeout(SILENCE, body.frame()).await {
                    Err(_) => return Err(Failed::Partway("no answer for 30 s".into())),
                    Ok(None) => {
                        return Err(if parts == 0 {
                            Failed::NoReply("the connection closed before the reply".into())
                        } else {
                            Failed::Partway("the reply ended before its last line".into())
                        })
                    }
                    Ok(Some(Err(e))) => return Err(Failed::Partway(e.to_string())),
                    Ok(Some(Ok(f))) => f,
                };
                let Ok(data) = frame.into_data() else { continue };
                for b in data.iter() {
                    if *b != b'\n' {
                        line.push(*b);
                        continue;
                    }
                    parts += 1;
                    match read_line(&line).map_err(Failed::Answer)? {
                        Line::Tick => {}
                        Line::Done => return Ok(()),
                        Line::Error(w) => return Err(Failed::Answer(wire_error(w))),
                        Line::Part(p) => sink.part(p).map_err(|e| Failed::Answer(e.into()))?,
                    }
                    line.clear();
                }
            }
        })
    }
}

/// One line of a reply.
enum Line {
    Tick,
    Done,
    Error(WireError),
    Part(Part),
}

fn read_line(line: &[u8]) -> anyhow::Result<Line> {
    let v: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| anyhow::anyhow!("the server's reply is not JSON lines ({e})"))?;
    match &v {
        serde_json::Value::String(s) if s == "tick" => return Ok(Line::Tick),
        serde_json::Value::String(s) if s == "done" => return Ok(Line::Done),
        serde_json::Value::Object(o) if o.contains_key("error") => {
            let w: WireError = serde_json::from_value(o["error"].clone())
                .map_err(|e| anyhow::anyhow!("the server's error is not one dms knows ({e})"))?;
            return Ok(Line::Error(w));
        }
        _ => {}
    }
    Ok(Line::Part(serde_json::from_value(v).map_err(|e| anyhow::anyhow!("a reply part dms does not know ({e})"))?))
}

/// An error the server reported, as this command's error (the same kind, so the same exit).
fn wire_error(w: WireError) -> anyhow::Error {
    let mut e = DmsError::new(Kind::from_code(&w.code), w.message);
    e.faults = w.faults;
    e.into()
}

/// A refusal the server gave before running the call (a body too large, busy, a call it does
/// not know).
fn status_error(status: hyper::StatusCode, body: &[u8]) -> anyhow::Error {
    let parsed: Option<WireError> = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("error")?.clone()).ok());
    match parsed {
        Some(w) if status == hyper::StatusCode::SERVICE_UNAVAILABLE => {
            DmsError::new(Kind::Unreachable, w.message).into()
        }
        Some(w) => wire_error(w),
        None => DmsError::new(Kind::Unreachable, format!("the server answered {status}: not a dms server?")).into(),
    }
}

async fn connect(
    address: &Address,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
) -> Result<SendRequest<Full<Bytes>>, Failed> {
    let gone = |e: std::io::Error| Failed::Answer(unreachable(address, &e.to_string(), false));
    match address {
        Address::Unix(path) => {
            let stream = tokio::time::timeout(CONNECT, tokio::net::UnixStream::connect(path))
                .await
                .map_err(|_| gone(std::io::Error::new(std::io::ErrorKind::TimedOut, "no connection within 5 s")))?
                .map_err(gone)?;
            handshake(TokioIo::new(stream), address).await
        }
        Address::Https { host, port } => {
            let config = tls.ok_or_else(|| Failed::Answer(anyhow::anyhow!("no TLS configuration")))?;
            let stream = tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect((host.as_str(), *port)))
                .await
                .map_err(|_| gone(std::io::Error::new(std::io::ErrorKind::TimedOut, "no connection within 5 s")))?
                .map_err(gone)?;
            // The call's body goes in small writes: not held back for an ACK (Nagle).
            let _ = stream.set_nodelay(true);
            let name = rustls_pki_types::ServerName::try_from(host.clone())
                .map_err(|_| Failed::Answer(usage(format!("--server: {host:?} is not a host name")).into()))?;
            let tls = tokio::time::timeout(CONNECT, tokio_rustls::TlsConnector::from(config).connect(name, stream))
                .await
                .map_err(|_| gone(std::io::Error::new(std::io::ErrorKind::TimedOut, "no TLS handshake within 5 s")))?
                .map_err(|e| {
                    Failed::Answer(
                        DmsError::new(
                            Kind::Unreachable,
                            format!(
                                "the TLS connection to {address} was refused ({e}): is --ca-file (DMS_CA_FILE) the authority that signed the server's certificate? The call was not done"
                            ),
                        )
                        .into(),
                    )
                })?;
            handshake(TokioIo::new(tls), address).await
        }
    }
}

async fn handshake<I>(io: I, address: &Address) -> Result<SendRequest<Full<Bytes>>, Failed>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Failed::Answer(unreachable(address, &e.to_string(), false)))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// The roots a client trusts: `--ca-file` (a private authority), or the web's (webpki-roots).
fn client_tls(ca_file: Option<&Path>) -> anyhow::Result<tokio_rustls::rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    match ca_file {
        Some(p) => {
            let f = crate::files::open(p, crate::files::Purpose::Input, crate::files::Access::Read)?
                .ok_or_else(|| crate::error::invalid(format!("--ca-file {}: no such file", p.display())))?;
            let pem = crate::files::read_capped(f, p, crate::files::Purpose::Input, 1 << 20)?;
            for c in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
                let c = c.map_err(|e| crate::error::invalid(format!("--ca-file {}: not PEM ({e})", p.display())))?;
                roots.add(c).map_err(|e| crate::error::invalid(format!("--ca-file {}: {e}", p.display())))?;
            }
            if roots.is_empty() {
                return Err(crate::error::invalid(format!("--ca-file {}: no certificate in it", p.display())).into());
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_a_socket_or_https_never_plain_tcp() {
        assert!(
            matches!(Address::parse("unix:/run/dms/dms.sock"), Ok(Address::Unix(p)) if p == Path::new("/run/dms/dms.sock"))
        );
        assert!(
            matches!(Address::parse("https://dms.example:8443"), Ok(Address::Https { host, port: 8443 }) if host == "dms.example")
        );
        assert!(matches!(Address::parse("https://dms.example"), Ok(Address::Https { port: 443, .. })));
        for bad in ["http://dms.example:80", "dms.example:8443", "unix:", "https://:99", "tcp://x:1"] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }
}
