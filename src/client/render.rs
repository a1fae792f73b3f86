//! A reply rendered as it arrives: each [`Part`] handed to `output` (the only printer), lines
//! between prompts to the person's terminal, a progress bar on a terminal's stderr, the session
//! file written or removed. A [`Part::Ask`] is kept for the driver, which asks it.

use crate::api::{Asked, Part, Sink};
use crate::output::{Output, Rows};
use crate::prompt::Prompter;
use crate::session_file;
use std::io::IsTerminal as _;
use std::path::Path;

/// Something that looks at each part of a reply before it is rendered.
pub type Watch<'a> = &'a mut dyn FnMut(&Part) -> anyhow::Result<()>;

pub struct Renderer<'a> {
    pub out: &'a Output,
    pub term: Option<&'a Prompter>,
    session_path: &'a Path,
    rows: Option<Rows>,
    progress: Option<indicatif::ProgressBar>,
    /// The step the call ended with, for the driver to ask.
    pub asked: Option<Asked>,
    /// Something was printed on stdout (a reply object, a list).
    pub printed: bool,
    /// Seen by a command that looks at its reply (`otp setup --qr` writes the key's image).
    pub watch: Option<Watch<'a>>,
}

impl<'a> Renderer<'a> {
    pub fn new(out: &'a Output, term: Option<&'a Prompter>, session_path: &'a Path) -> Renderer<'a> {
        Renderer { out, term, session_path, rows: None, progress: None, asked: None, printed: false, watch: None }
    }

    fn end_progress(&mut self) {
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
    }

    fn render(&mut self, p: Part) -> anyhow::Result<()> {
        if let Some(w) = self.watch.as_mut() {
            w(&p)?;
        }
        if !matches!(p, Part::Progress(_)) {
            self.end_progress();
        }
        match p {
            Part::Object(v) => {
                self.printed = true;
                self.out.object(&v)?
            }
            Part::Screen(s) => {
                self.printed = true;
                self.out.screen(&s)?
            }
            Part::Diff(rows) => {
                self.printed = true;
                self.out.diff(&rows, false)?
            }
            Part::Applied(rows) => {
                self.printed = true;
                self.out.diff(&rows, true)?
            }
            Part::List(head) => {
                self.printed = true;
                self.rows = Some(self.out.list(&head)?);
            }
            Part::Row(values) => match self.rows.as_mut() {
                Some(r) => r.push(values)?,
                None => anyhow::bail!("a row outside a list in the reply"),
            },
            Part::End(end) => {
                let rows = self.rows.take().ok_or_else(|| anyhow::anyhow!("a list's end without its start"))?;
                let extras: Vec<(&str, serde_json::Value)> =
                    end.extras.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                rows.finish(&extras, end.footer.as_deref())?;
            }
            Part::Gap => self.out.gap(),
            Part::Note(t) => self.out.note(&t),
            Part::Warn(t) => self.out.warn(&t),
            Part::Say(t) => {
                if let Some(term) = self.term {
                    term.say(&t)?;
                }
            }
            Part::SayQr(uri) => {
                if let Some(term) = self.term {
                    term.say(&self.out.qr_text(&uri))?;
                }
            }
            Part::Qr(uri) => {
                if self.out.for_person() {
                    self.out.qr(&uri);
                }
            }
            Part::Progress(n) => {
                if std::io::stderr().is_terminal() {
                    let pb = self.progress.get_or_insert_with(|| {
                        let pb = indicatif::ProgressBar::new_spinner();
                        if let Ok(style) = indicatif::ProgressStyle::with_template("{pos} rows written ({elapsed})") {
                            pb.set_style(style);
                        }
                        pb
                    });
                    pb.set_position(n);
                }
            }
            Part::Session(s) => session_file::write(self.session_path, &s.user_id, s.token.bytes())?,
            Part::EndSession => session_file::remove(self.session_path),
            Part::Ask(a) => self.asked = Some(a),
        }
        Ok(())
    }

    /// The end of a reply: a progress bar cleared.
    pub fn close(&mut self) {
        self.end_progress();
    }
}

impl Sink for Renderer<'_> {
    fn part(&mut self, p: Part) -> std::io::Result<()> {
        self.render(p).map_err(|e| match e.downcast::<std::io::Error>() {
            Ok(io) => io,
            Err(e) => std::io::Error::other(RenderError(format!("{e:#}"), Some(e))),
        })
    }
}

/// A failure while rendering that is not an I/O error (a session file refused, say), carried
/// through the sink's `io::Error` and unpacked again by the driver.
#[derive(Debug)]
pub struct RenderError(pub String, pub Option<anyhow::Error>);

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

/// Unpack an error that went through the sink as `io::Error` into what it was.
pub fn unpack(e: anyhow::Error) -> anyhow::Error {
    let inner =
        e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|r| r.downcast_ref::<RenderError>());
    match inner {
        Some(_) => {
            let io = e.downcast::<std::io::Error>().expect("checked above");
            match io.into_inner().and_then(|b| b.downcast::<RenderError>().ok()) {
                Some(r) => match r.1 {
                    Some(orig) => orig,
                    None => anyhow::anyhow!(r.0),
                },
                None => anyhow::anyhow!("render error"),
            }
        }
        None => e,
    }
}
