//! The client side of every command: a [`Call`] sent in an envelope (the session token of this
//! shell, the test clock, the reply's format, the answers already given), its reply rendered
//! as it arrives, and each step the reply asks answered — from what was given up front, or at
//! a prompt on the terminal. The same driver runs embedded (the call executed in this process)
//! and against `dms serve` (the call sent over its socket or TLS).

pub mod remote;
pub mod render;

use crate::api::{Call, Envelope, Token};
use crate::domain::flow::{Answers, Ask, Step};
use crate::error::usage;
use crate::files::{self, Access, Purpose};
use crate::ops::service::Service;
use crate::output::Output;
use crate::prompt::Prompter;
use crate::secrets::Input;
use crate::session_file;
use render::Renderer;
use std::path::{Path, PathBuf};

/// Where calls go.
enum Target {
    /// This process opens the database and runs the call itself.
    Embedded(Service),
    /// `dms serve` runs it (`--server`).
    Remote(remote::Remote),
}

pub struct Client {
    target: Target,
    pub out: Output,
    pub session_path: PathBuf,
    /// `DMS_SEED`, and how many calls this process made (each call's seed is distinct).
    seed: Option<u64>,
    calls: u64,
}

/// Longest `DMS_NOW=@FILE` read (a time is a line).
const MAX_CLOCK_FILE: u64 = 256;

impl Client {
    /// A client that runs calls on the database at `db`, in this process.
    pub fn embedded(db: &Path, out: Output, session_path: PathBuf) -> anyhow::Result<Client> {
        let service = Service::open(db, false)?;
        Ok(Client { target: Target::Embedded(service), out, session_path, seed: seed_from_env()?, calls: 0 })
    }

    /// A client of the server at `url` (`unix:PATH` or `https://HOST:PORT`): it opens no
    /// database or key file.
    pub fn remote(url: &str, ca_file: Option<&Path>, out: Output, session_path: PathBuf) -> anyhow::Result<Client> {
        let r = remote::Remote::new(url, ca_file)?;
        Ok(Client { target: Target::Remote(r), out, session_path, seed: seed_from_env()?, calls: 0 })
    }

    /// The service this client runs calls on in-process, if it does.
    pub fn service(&self) -> Option<&Service> {
        match &self.target {
            Target::Embedded(s) => Some(s),
            Target::Remote(_) => None,
        }
    }

    /// The token of this shell's session file, if it holds one.
    fn token(&self) -> anyhow::Result<Option<Token>> {
        Ok(session_file::read_token(&self.session_path)?.map(|t| Token::new(&t)))
    }

    /// Run `call` to its end: its reply rendered, its steps answered (from what `input` was
    /// given up front, then at its terminal when there is one).
    pub fn run(&mut self, call: Call, input: Input) -> anyhow::Result<()> {
        self.run_watching(call, input, None)
    }

    /// [`Client::run`], with `watch` seeing each part before it is rendered.
    pub fn run_watching(
        &mut self,
        call: Call,
        input: Input,
        mut watch: Option<render::Watch<'_>>,
    ) -> anyhow::Result<()> {
        let Input { answers: given, term, stdin } = input;
        let term = term.as_ref();
        let mut next = Some((call, given));
        while let Some((call, answers)) = next.take() {
            let env = self.envelope(call, answers, term.is_some(), stdin)?;
            let session_path = self.session_path.clone();
            let out = self.out.clone();
            let mut r = Renderer::new(&out, term, &session_path);
            if let Some(w) = watch.as_mut() {
                r.watch = Some(&mut **w);
            }
            let result = self.send(env, &mut r);
            r.close();
            result.map_err(render::unpack)?;
            if let Some(asked) = r.asked.take() {
                let term = term.ok_or_else(|| usage(asked.step.missing.clone()))?;
                let mut answers = Answers::default();
                answers.put(asked.step.slot, ask(term, &asked.step)?.to_string());
                next = Some((Call::Next { attempt: asked.attempt }, answers));
            }
        }
        Ok(())
    }

    fn send(&mut self, env: Envelope, r: &mut Renderer<'_>) -> anyhow::Result<()> {
        match &mut self.target {
            Target::Embedded(service) => service.execute(env, &crate::api::Via::this_process(), r),
            Target::Remote(remote) => remote.call(&env, r),
        }
    }

    fn envelope(&mut self, call: Call, answers: Answers, interactive: bool, stdin: bool) -> anyhow::Result<Envelope> {
        self.calls += 1;
        Ok(Envelope {
            call_id: hex::encode(crate::crypto::SecureRng::os().bytes::<16>()),
            session: self.token()?,
            now: now_from_env()?,
            seed: self.seed.map(|s| s.wrapping_add(self.calls - 1)),
            pause_at: std::env::var("DMS_TEST_PAUSE_AT").ok().filter(|v| !v.is_empty()),
            format: self.out.format,
            interactive,
            stdin,
            answers,
            call,
        })
    }
}

/// Ask one step at the terminal.
fn ask(term: &Prompter, step: &Step) -> anyhow::Result<zeroize::Zeroizing<String>> {
    use zeroize::Zeroizing;
    Ok(match &step.ask {
        Ask::Secret => term.password(&step.prompt)?,
        Ask::NewSecret => term.new_password(&step.prompt)?,
        Ask::Text => Zeroizing::new(term.input(&step.prompt)?),
        Ask::Choose { options, default } => {
            let items: Vec<&str> = options.iter().map(String::as_str).collect();
            Zeroizing::new(term.select(&step.prompt, &items, *default)?.to_string())
        }
        Ask::Confirm { default } => {
            Zeroizing::new(if term.confirm(&step.prompt, *default)? { "yes" } else { "no" }.to_string())
        }
    })
}

/// `DMS_NOW` as this process sees it: a time, or `@FILE` holding one (read now: a test moves
/// the clock while a prompt is open). The file is judged first: a regular file, read capped,
/// so a FIFO or a device never hangs the command.
pub fn now_from_env() -> anyhow::Result<Option<String>> {
    let v = match std::env::var("DMS_NOW") {
        Ok(v) if !v.trim().is_empty() => v,
        _ => return Ok(None),
    };
    match v.trim().strip_prefix('@') {
        None => Ok(Some(v)),
        Some(path) => {
            let path = Path::new(path);
            let f = files::open(path, Purpose::Input, Access::Read)?
                .ok_or_else(|| usage(format!("DMS_NOW=@{}: no such file", path.display())))?;
            let bytes = files::read_capped(f, path, Purpose::Input, MAX_CLOCK_FILE)
                .map_err(|e| usage(format!("DMS_NOW=@{}: {e:#}", path.display())))?;
            Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string()))
        }
    }
}

pub fn seed_from_env() -> anyhow::Result<Option<u64>> {
    match std::env::var("DMS_SEED") {
        Ok(v) if !v.trim().is_empty() => {
            Ok(Some(v.trim().parse().map_err(|_| usage(format!("DMS_SEED {v:?}: not a number")))?))
        }
        _ => Ok(None),
    }
}
