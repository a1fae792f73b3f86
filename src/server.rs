//! `dms serve` (SPEC §10): the service that owns the database, and its transports. A thin
//! layer: each HTTP/1.1 request on the Unix socket (or TLS) is one call of the API, decoded,
//! run by `ops::service::Service::execute` on a blocking thread as the caller the transport
//! names (SO_PEERCRED over the socket, the peer address over TLS), its reply streamed back as
//! JSON Lines as it is made.
//!
//! ```text
//! POST /v1/<op>   body: the envelope (api::Envelope without "op": the path names it)
//!                 reply: 200, application/x-ndjson: one api::Part per line, "tick" lines while
//!                 a call works silently, and a last line "done" or {"error": {...}}
//! GET /v1/health  {"ok": true, "version": "...", "schema": N}
//! ```
//!
//! Limits: a body of at most 32 MiB; a connection idle for 30 s (before a request or between
//! two) is closed; at most 64 calls run at once, more wait up to 10 s and are then answered
//! busy (503); argon2 runs on at most as many threads as there are cores (`crypto`), never
//! under the write lock. A call ID repeated by the same caller within 10 minutes is answered
//! with the first reply (writes; a read is answered afresh). SIGTERM or SIGINT: no new
//! connections, the calls in flight finish (at most 30 s), the socket is removed, exit 0.

use crate::api::{self, Envelope, Part, Sink, Via, WireError};
use crate::error::{classify, conflict, invalid, usage, Kind};
use crate::files::{self, Access, Purpose};
use crate::ops::service::Service;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

/// The largest call body accepted (a migration file of 100,000 users fits).
pub const MAX_BODY: usize = 32 << 20;
/// Calls run at once; more wait their turn.
pub const MAX_CALLS: usize = 64;
/// How long a call waits for its turn before it is answered busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);
/// A connection that sends nothing for this long is closed.
pub const IDLE: Duration = Duration::from_secs(30);
/// How long the calls in flight may take to finish at shutdown.
pub const DRAIN: Duration = Duration::from_secs(30);
/// How long replies are kept for a repeated call ID.
pub const REPLAY_FOR: Duration = Duration::from_secs(10 * 60);
/// A reply larger than this is not kept for replay (its call is remembered as done).
const REPLAY_MAX_BYTES: usize = 4 << 20;
/// Silence after which a working call says it is still at work.
const TICK: Duration = Duration::from_secs(5);

/// What `dms serve` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub db: PathBuf,
    pub socket: Option<PathBuf>,
    pub socket_mode: u32,
    pub socket_group: Option<String>,
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The socket's default place: `dms.sock` beside the database.
pub fn default_socket(db: &Path) -> PathBuf {
    db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("dms.sock")
}

/// An octal file mode as typed (`0660`, `660`).
pub fn parse_mode(s: &str) -> anyhow::Result<u32> {
    let t = s.trim();
    let m = u32::from_str_radix(t, 8).map_err(|_| usage(format!("--socket-mode {t:?}: an octal mode such as 0660")))?;
    if m > 0o777 {
        return Err(usage(format!("--socket-mode {t:?}: permission bits only (at most 0777)")).into());
    }
    Ok(m)
}

pub fn run(o: Options) -> anyhow::Result<()> {
    if o.listen.is_some() && (o.tls_cert.is_none() || o.tls_key.is_none()) {
        return Err(usage(
            "plain TCP is refused: --listen needs --tls-cert PEM and --tls-key PEM (remote DAs connect with TLS)",
        )
        .into());
    }
    if o.listen.is_none() && (o.tls_cert.is_some() || o.tls_key.is_some()) {
        return Err(usage("--tls-cert and --tls-key go with --listen HOST:PORT").into());
    }
    // The database and its key file under the files rule, as for any dms process.
    let service = Arc::new(Service::open(&o.db, true)?);
    service.check_key()?;
    crate::crypto::keep_arenas();
    let _lock = InstanceLock::take(&o.db)?;
    let tls = match (&o.listen, &o.tls_cert, &o.tls_key) {
        (Some(addr), Some(cert), Some(key)) => Some((addr.clone(), tls_acceptor(cert, key)?)),
        _ => None,
    };
    let socket = o.socket.clone().unwrap_or_else(|| default_socket(&o.db));
    let group = match &o.socket_group {
        Some(g) => Some(files::group_id(g).ok_or_else(|| invalid(format!("--socket-group {g:?}: no such group")))?),
        None => None,
    };
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(MAX_CALLS + 16)
        .enable_all()
        .build()?;
    let result = rt.block_on(serve(service, &o.db, &socket, o.socket_mode, group, tls));
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

/// One `dms serve` per database: an exclusive lock on `DB.serve.lock`, held while it runs.
struct InstanceLock {
    _file: std::fs::File,
}

impl InstanceLock {
    fn take(db: &Path) -> anyhow::Result<InstanceLock> {
        let path = crate::ops::work::sibling(db, "serve.lock");
        // Judged like the key file (a regular file, its owner's alone), then opened to write.
        let file = match files::open(&path, Purpose::KeyFile, Access::Append)? {
            Some(f) => f,
            None => files::create_private(&path).map_err(|e| invalid(format!("{}: {e}", path.display())))?,
        };
        use rustix::fs::{flock, FlockOperation};
        if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(conflict(format!(
                "another dms serve already runs on {} (pid {}): one server per database",
                db.display(),
                pid.trim()
            ))
            .into());
        }
        let _ = file.set_len(0);
        let _ = (&file).write_all(std::process::id().to_string().as_bytes());
        Ok(InstanceLock { _file: file })
    }
}

fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let read = |p: &Path, purpose: Purpose| -> anyhow::Result<Vec<u8>> {
        let f =
            files::open(p, purpose, Access::Read)?.ok_or_else(|| invalid(format!("{}: no such file", p.display())))?;
        files::read_capped(f, p, purpose, 1 << 20)
    };
    let cert_pem = read(cert, Purpose::Input)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("--tls-cert {}: not a PEM certificate chain ({e})", cert.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!("--tls-cert {}: no certificate in it", cert.display())).into());
    }
    // The private key is the service's secret: under the files rule (its owner's alone).
    let key_pem = zeroize::Zeroizing::new(read(key, Purpose::KeyFile)?);
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| invalid(format!("--tls-key {}: not a PEM private key ({e})", key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(format!("the TLS certificate and key do not make a server identity: {e}")))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// What every connection shares.
struct Shared {
    service: Arc<Service>,
    calls: Arc<Semaphore>,
    replies: Mutex<HashMap<(String, String), Kept>>,
}

/// A call ID's reply: still being made, or made (its lines).
enum Kept {
    Running(Arc<tokio::sync::Notify>, Instant),
    Done(Arc<Vec<Bytes>>, Instant),
    TooLarge(Instant),
}

impl Kept {
    fn at(&self) -> Instant {
        match self {
            Kept::Running(_, t) | Kept::Done(_, t) | Kept::TooLarge(t) => *t,
        }
    }
}

async fn serve(
    service: Arc<Service>,
    db: &Path,
    socket: &Path,
    mode: u32,
    group: Option<u32>,
    tls: Option<(String, tokio_rustls::TlsAcceptor)>,
) -> anyhow::Result<()> {
    let unix = bind_socket(socket, mode, group)?;
    let tcp = match &tls {
        Some((addr, _)) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| invalid(format!("--listen {addr}: cannot listen there: {e}")))?,
        ),
        None => None,
    };
    let shared =
        Arc::new(Shared { service, calls: Arc::new(Semaphore::new(MAX_CALLS)), replies: Mutex::new(HashMap::new()) });
    let db_abs = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let sock_abs = std::fs::canonicalize(socket).unwrap_or_else(|_| socket.to_path_buf());
    let mut listening = vec![format!("unix:{}", sock_abs.display())];
    if let Some(t) = &tcp {
        listening.push(format!("https://{}", t.local_addr()?));
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{}",
            json!({ "listening": listening, "pid": std::process::id(), "db": db_abs.display().to_string() })
        )?;
        out.flush()?;
    }
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let acceptor = tls.map(|(_, a)| a);
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            accepted = unix.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let uid = stream.peer_cred().map(|c| c.uid()).unwrap_or(u32::MAX);
                let via = Via::Unix { uid, user: files::user_name(uid) };
                tokio::spawn(connection(TokioIo::new(stream), via, shared.clone(), graceful.watcher()));
            }
            accepted = async { match &tcp { Some(t) => t.accept().await, None => std::future::pending().await } } => {
                let Ok((stream, peer)) = accepted else { continue };
                // A reply's last lines are small writes: without this, Nagle's algorithm held
                // each behind the client's delayed ACK, ~40 ms a call (benches/serve.sh: wrk p50
                // 43.9 ms over TLS, 1.0 ms over the socket).
                let _ = stream.set_nodelay(true);
                let Some(acceptor) = acceptor.clone() else { continue };
                let shared = shared.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await else {
                        return;
                    };
                    let via = Via::Tls { peer: peer.to_string() };
                    connection(TokioIo::new(tls), via, shared, watcher).await;
                });
            }
        }
    }
    drop(unix);
    drop(tcp);
    let _ = std::fs::remove_file(socket);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    log_line(&json!({ "time": api::time(chrono::Utc::now()), "event": "stopped" }));
    Ok(())
}

fn bind_socket(path: &Path, mode: u32, group: Option<u32>) -> anyhow::Result<tokio::net::UnixListener> {
    if let Ok(m) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt as _;
        if !m.file_type().is_socket() {
            return Err(invalid(format!(
                "{}: a file that is not a socket is there, and dms serve never removes it: give another --socket",
                path.display()
            ))
            .into());
        }
        // A socket left by a server that stopped (this one holds the instance lock).
        std::fs::remove_file(path)?;
    }
    // Made with no access for anyone, then given its mode and group: never open in between.
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = tokio::net::UnixListener::bind(path);
    rustix::process::umask(old);
    let listener = bound.map_err(|e| invalid(format!("{}: cannot listen there: {e}", path.display())))?;
    if let Some(gid) = group {
        rustix::fs::chown(path, None, Some(rustix::fs::Gid::from_raw(gid)))
            .map_err(|e| invalid(format!("{}: cannot give it the group: {e}", path.display())))?;
    }
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(listener)
}

/// Serve one connection: HTTP/1.1, keep-alive, closed after 30 s without a request.
async fn connection<I>(io: I, via: Via, shared: Arc<Shared>, watcher: hyper_util::server::graceful::Watcher)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (via, shared) = (via.clone(), shared.clone());
        async move { Ok::<_, std::convert::Infallible>(handle(req, via, shared).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE)
        .keep_alive(true)
        .serve_connection(io, svc);
    let _ = watcher.watch(conn).await;
}

/// A reply body: whole, or streamed from the call as it works.
pub enum Body {
    Full(Full<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Full(f) => Pin::new(f).poll_frame(cx),
            Body::Stream(rx) => rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(f) => f.is_end_stream(),
            Body::Stream(_) => false,
        }
    }

    /// A whole body says its length (Content-Length, not chunks).
    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Full(f) => f.size_hint(),
            Body::Stream(_) => hyper::body::SizeHint::default(),
        }
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Body::Full(Full::new(Bytes::from(v.to_string()))));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

fn error_response(status: StatusCode, kind: Kind, message: &str) -> Response<Body> {
    json_response(status, &json!({ "error": { "code": kind.code(), "exit": kind.exit_code(), "message": message } }))
}

async fn handle(req: Request<Incoming>, via: Via, shared: Arc<Shared>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let prefix = format!("/{}/", api::VERSION);
    let Some(op) = path.strip_prefix(&prefix).map(str::to_string) else {
        return error_response(
            StatusCode::NOT_FOUND,
            Kind::Usage,
            &format!("no such path {path:?}: the API is under /{}/", api::VERSION),
        );
    };
    if op == "health" {
        if req.method() != Method::GET {
            return error_response(StatusCode::METHOD_NOT_ALLOWED, Kind::Usage, "GET /v1/health");
        }
        return json_response(
            StatusCode::OK,
            &json!({ "ok": true, "version": env!("CARGO_PKG_VERSION"), "schema": crate::storage::SCHEMA_VERSION }),
        );
    }
    if req.method() != Method::POST {
        return error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            Kind::Usage,
            "a call is a POST with its envelope as JSON",
        );
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                Kind::Invalid,
                &format!("the call is larger than the server accepts ({} MiB); nothing was done", MAX_BODY >> 20),
            )
        }
    };
    let env = match decode(&op, &body) {
        Ok(env) => env,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, Kind::Usage, &message),
    };
    let permit = match tokio::time::timeout(QUEUE_WAIT, shared.calls.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                Kind::Other,
                "the server is busy (every call slot taken for 10 s); the call was not done: try again",
            )
        }
    };
    let keep = !env.call.reads_only();
    let key = (via.owner_key(), env.call_id.clone());
    if keep {
        loop {
            let waiting = {
                let mut replies = shared.replies.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                replies.retain(|_, k| now - k.at() < REPLAY_FOR);
                match replies.get(&key) {
                    Some(Kept::Done(lines, _)) => return replay(lines.clone()),
                    Some(Kept::TooLarge(_)) => {
                        return replay(Arc::new(vec![ending(&api::Ending::Error(wire(
                            Kind::Conflict,
                            "this call was already done; its reply was too large to keep: see its effect (e.g. `dms request list`)",
                        )))]))
                    }
                    Some(Kept::Running(n, _)) => Some(n.clone()),
                    None => {
                        replies.insert(key.clone(), Kept::Running(Arc::new(tokio::sync::Notify::new()), now));
                        None
                    }
                }
            };
            match waiting {
                Some(n) => n.notified().await,
                None => break,
            }
        }
    }
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let (done, mut finished) = tokio::sync::oneshot::channel::<()>();
    {
        // While the call works in silence, a line now and then says it still does. It lets go
        // of the reply the moment the call ends, so the body ends with its last line (a copy
        // held through a sleep kept every reply open for up to 5 s after "done").
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut finished => break,
                    () = tokio::time::sleep(TICK) => {
                        if tx.send(Bytes::from_static(b"\"tick\"\n")).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    let started = Instant::now();
    let shared2 = shared.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let call_id = env.call_id.clone();
        let mut sink = ChannelSink { tx, keep, kept: Vec::new(), kept_bytes: 0, gone: false };
        let result = shared2.service.execute(env, &via, &mut sink);
        let (exit, end) = match &result {
            Ok(()) => (0, api::Ending::Done),
            Err(e) if crate::error::is_broken_pipe(e) => (0, api::Ending::Done),
            Err(e) => {
                let (kind, message) = classify(e);
                let mut w = wire(kind, &message);
                w.faults = crate::error::faults(e).to_vec();
                (kind.exit_code(), api::Ending::Error(w))
            }
        };
        sink.line(ending(&end));
        let _ = done.send(());
        log_line(&json!({
            "time": api::time(chrono::Utc::now()),
            "caller": via.short(),
            "call": op,
            "call_id": call_id,
            "exit": exit,
            "ms": started.elapsed().as_millis() as u64,
        }));
        if keep {
            let mut replies = shared2.replies.lock().unwrap_or_else(|p| p.into_inner());
            let kept = if sink.kept_bytes > REPLAY_MAX_BYTES {
                Kept::TooLarge(Instant::now())
            } else {
                Kept::Done(Arc::new(std::mem::take(&mut sink.kept)), Instant::now())
            };
            if let Some(Kept::Running(n, _)) = replies.insert(key, kept) {
                n.notify_waiters();
            }
        }
    });
    let mut r = Response::new(Body::Stream(rx));
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/x-ndjson"));
    r
}

/// The envelope of a call: the body's JSON object, the path naming its operation.
fn decode(op: &str, body: &[u8]) -> Result<Envelope, String> {
    let mut v: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let obj = v.as_object_mut().ok_or("the body is a JSON object: the call's envelope")?;
    obj.insert("op".into(), Value::String(op.to_string()));
    let env: Envelope = serde_json::from_value(v).map_err(|e| {
        let text = e.to_string();
        if text.contains("unknown variant") {
            format!("no such call {op:?} (this server speaks dms {})", env!("CARGO_PKG_VERSION"))
        } else {
            format!("call {op:?}: {text}")
        }
    })?;
    if env.call_id.is_empty() || env.call_id.len() > 64 || !env.call_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("call_id: 1 to 64 hexadecimal digits".into());
    }
    Ok(env)
}

fn wire(kind: Kind, message: &str) -> WireError {
    WireError { code: kind.code().into(), exit: kind.exit_code(), message: message.into(), faults: Vec::new() }
}

fn ending(e: &api::Ending) -> Bytes {
    let mut line = serde_json::to_vec(e).unwrap_or_else(|_| b"\"done\"".to_vec());
    line.push(b'\n');
    Bytes::from(line)
}

/// A kept reply, sent again.
fn replay(lines: Arc<Vec<Bytes>>) -> Response<Body> {
    let body: Vec<u8> = lines.iter().flat_map(|l| l.iter().copied()).collect();
    let mut r = Response::new(Body::Full(Full::new(Bytes::from(body))));
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/x-ndjson"));
    r
}

/// The parts of a reply onto the connection, a JSON line each; for a write, kept for replay
/// too, and the call goes on when the client is gone (its reply waits for the retry). A read
/// whose client is gone stops.
struct ChannelSink {
    tx: mpsc::Sender<Bytes>,
    keep: bool,
    kept: Vec<Bytes>,
    kept_bytes: usize,
    gone: bool,
}

impl ChannelSink {
    fn line(&mut self, b: Bytes) -> bool {
        if self.keep {
            self.kept_bytes += b.len();
            if self.kept_bytes <= REPLAY_MAX_BYTES {
                self.kept.push(b.clone());
            }
        }
        if !self.gone && self.tx.blocking_send(b).is_err() {
            self.gone = true;
        }
        !self.gone
    }
}

impl Sink for ChannelSink {
    fn part(&mut self, p: Part) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&p).map_err(std::io::Error::other)?;
        line.push(b'\n');
        if !self.line(Bytes::from(line)) && !self.keep {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client is gone"));
        }
        Ok(())
    }
}

/// One JSON line on stderr (a call, or an event of the server's): never a secret.
fn log_line(v: &Value) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{v}");
}
