//! Signing in (SPEC §3, contract §8): `login`, `otp request|setup`, `password reset|change`,
//! `auth settings`. Each reads what this side holds — the session file it replaces, the lines
//! of `--password-stdin`, `--otp`, the `--qr` file it writes — and the service walks the steps.

use crate::api::{Call, Channel, Part, SettingsChange, Token};
use crate::cli::{AuthCommand, LoginArgs, OtpCommand, OtpSetupArgs, PasswordCommand};
use crate::client::Client;
use crate::commands::{simple, with_input};
use crate::domain::flow::Slot;
use crate::domain::user_id::UserId;
use crate::error::{conflict, invalid};
use crate::secrets::Input;
use crate::session_file;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub fn login(client: &mut Client, a: LoginArgs) -> anyhow::Result<()> {
    // The session file is judged first: a login that could not write it is refused before
    // anything is asked or recorded.
    let replaces = session_file::prepare(&client.session_path)?.map(|t| Token::new(&t));
    // A smartcard's second line is the holder's own PIN, when the first is a one-time initial one.
    let secrets: &[Slot] = if a.smartcard { &[Slot::Pin, Slot::NewPin] } else { &[Slot::Password] };
    let input = Input::new(a.password_stdin, secrets)?.with(Slot::Otp, a.otp.as_deref());
    let user = match a.user {
        Some(u) => u,
        None => UserId::parse(&input.ask("User ID", "--user ID is required")?)?,
    };
    let session_file = client.session_path.display().to_string();
    with_input(client, Call::Login { user, smartcard: a.smartcard, replaces, session_file }, input)
}

pub fn otp(client: &mut Client, c: OtpCommand) -> anyhow::Result<()> {
    match c {
        OtpCommand::Request { user } => simple(client, Call::OtpRequest { user }),
        OtpCommand::Setup(a) => otp_setup(client, a),
    }
}

fn otp_setup(client: &mut Client, a: OtpSetupArgs) -> anyhow::Result<()> {
    let input = Input::new(a.password_stdin, &[Slot::Password])?;
    // The file is made first (0600, never over an existing one), so that a refused name costs
    // nothing; it is removed again if the set-up then fails.
    let mut qr = a.qr.as_deref().map(QrFile::create).transpose()?;
    let call = Call::OtpSetup {
        user: a.user,
        channel: if a.app { Channel::App } else { Channel::Email },
        accept_warning: a.accept_warning,
        qr_file: a.qr.as_ref().map(|p| p.display().to_string()),
    };
    let mut write_qr = |p: &Part| -> anyhow::Result<()> {
        if let (Part::Object(v), Some(f)) = (p, qr.as_mut()) {
            if let Some(uri) = v["otpauth_uri"].as_str() {
                f.write(uri)?;
            }
        }
        Ok(())
    };
    client.run_watching(call, input, Some(&mut write_qr))
}

pub fn password(client: &mut Client, c: PasswordCommand) -> anyhow::Result<()> {
    match c {
        PasswordCommand::Reset { user, otp, password_stdin } => {
            let input = Input::new(password_stdin, &[Slot::NewPassword])?.with(Slot::Otp, otp.as_deref());
            with_input(client, Call::PasswordReset { user }, input)
        }
        PasswordCommand::Change { user, password_stdin } => {
            let input = Input::new(password_stdin, &[Slot::NewPassword, Slot::CurrentPassword])?;
            with_input(client, Call::PasswordChange { user }, input)
        }
    }
}

pub fn settings(client: &mut Client, c: AuthCommand) -> anyhow::Result<()> {
    let AuthCommand::Settings { delete_device, use_email: _, otp, password_stdin } = c;
    let change = if delete_device { SettingsChange::DeleteDevice } else { SettingsChange::UseEmail };
    let input = Input::new(password_stdin, &[Slot::Password])?.with(Slot::Otp, otp.as_deref());
    with_input(client, Call::AuthSettings { change }, input)
}

// -- the QR code as an image file -----------------------------------------------------------------

/// The image formats `--qr` writes, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrImage {
    Svg,
    Png,
}

impl QrImage {
    pub fn of(path: &Path) -> Option<QrImage> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "svg" => Some(QrImage::Svg),
            "png" => Some(QrImage::Png),
            _ => None,
        }
    }

    /// The QR code of `text` as this image: the modules `output::qr_modules` gives the
    /// terminal (the same 4-module quiet zone), dark on white.
    pub fn render(self, text: &str) -> anyhow::Result<Vec<u8>> {
        let m = crate::output::qr_modules(text).ok_or_else(|| invalid("the key URI does not fit a QR code"))?;
        match self {
            QrImage::Svg => Ok(svg(&m).into_bytes()),
            QrImage::Png => png(&m),
        }
    }
}

/// A `--qr` file being written: created before the set-up, removed unless it was completed.
struct QrFile {
    path: PathBuf,
    kind: QrImage,
    file: Option<std::fs::File>,
}

impl QrFile {
    fn create(path: &Path) -> anyhow::Result<QrFile> {
        let kind = QrImage::of(path).ok_or_else(|| {
            invalid(format!("--qr {}: the file name must end in .svg or .png (the image format)", path.display()))
        })?;
        let file = crate::files::create_private(path).map_err(|e| -> anyhow::Error {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                conflict(format!(
                    "--qr {}: the file exists; dms never writes a key over a file (choose another name, or remove it)",
                    path.display()
                ))
                .into()
            } else {
                invalid(format!("--qr {}: cannot create the file: {e}", path.display())).into()
            }
        })?;
        Ok(QrFile { path: path.to_path_buf(), kind, file: Some(file) })
    }

    fn write(&mut self, uri: &str) -> anyhow::Result<()> {
        let bytes = self.kind.render(uri)?;
        let mut f = self.file.take().ok_or_else(|| anyhow::anyhow!("the QR file is written once"))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| invalid(format!("--qr {}: cannot write the file: {e}", self.path.display())))?;
        Ok(())
    }
}

impl Drop for QrFile {
    fn drop(&mut self) {
        // Still open: the set-up failed before the image was written.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Pixels per module in the PNG: a 45-module code (quiet zone included) is 360 pixels wide.
const PNG_SCALE: usize = 8;

/// The modules as an SVG: one unit per module, a white background, each run of dark modules in
/// a row one rectangle of the path.
pub fn svg(m: &[Vec<bool>]) -> String {
    let n = m.len();
    let mut d = String::new();
    for (y, row) in m.iter().enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] {
                let run = row[x..].iter().take_while(|dark| **dark).count();
                d.push_str(&format!("M{x} {y}h{run}v1h-{run}z"));
                x += run;
            } else {
                x += 1;
            }
        }
    }
    let px = n * PNG_SCALE;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{px}\" height=\"{px}\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\">\n\
<rect width=\"{n}\" height=\"{n}\" fill=\"#ffffff\"/>\n\
<path fill=\"#000000\" d=\"{d}\"/>\n\
</svg>\n"
    )
}

/// The modules as an 8-bit greyscale PNG, [`PNG_SCALE`] pixels a module.
pub fn png(m: &[Vec<bool>]) -> anyhow::Result<Vec<u8>> {
    let side = m.len() * PNG_SCALE;
    let mut pixels = Vec::with_capacity(side * side);
    for row in m {
        let line: Vec<u8> =
            row.iter().flat_map(|dark| std::iter::repeat_n(if *dark { 0 } else { 255 }, PNG_SCALE)).collect();
        for _ in 0..PNG_SCALE {
            pixels.extend_from_slice(&line);
        }
    }
    let side = u32::try_from(side)?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&pixels)?;
        w.finish()?;
    }
    Ok(out)
}
