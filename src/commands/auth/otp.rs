//! `otp request` and `otp setup` (with `--qr FILE`: the key's QR code as an SVG or PNG file).

use crate::cli::OtpSetupArgs;
use crate::context::{Ctx, Mode};
use crate::domain::otp::OtpChannel;
use crate::domain::user_id::UserId;
use crate::error::{conflict, invalid, usage};
use crate::ops::credentials::{self, SetUp};
use crate::ops::signin::{self, Secret};
use crate::output::time;
use crate::secrets::Secrets;
use serde_json::json;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub fn request(ctx: &mut Ctx, user: UserId) -> anyhow::Result<()> {
    let sent = ctx.transact(Mode::Write, |w| credentials::request_email_otp(w, &user))?;
    // The same answer whether or not the ID has an account and an address (no enumeration).
    ctx.out.object(&json!({ "user_id": user, "requested": true, "valid_until": time(sent.valid_until) }))?;
    ctx.out.note(&format!(
        "If {user} has a registered e-mail address and receives OTPs by e-mail, an 8-digit OTP is on its way; it is valid for 5 minutes (until {}).",
        signin::show_time(sent.valid_until)
    ));
    Ok(())
}

pub fn setup(ctx: &mut Ctx, a: OtpSetupArgs) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(a.password_stdin)?;
    if a.email && !a.accept_warning {
        let accepted = match secrets.term() {
            Some(t) => t.confirm("With e-mail OTP you cannot reset your own password (a DA, or the exchange for DAs, must reset it). Accept?", false)?,
            None => false,
        };
        if !accepted {
            return Err(usage(
                "--email needs --accept-warning: e-mail OTP users cannot use self-service password reset",
            )
            .into());
        }
    }
    // The file is made first (0600, never over an existing one), so that a refused name costs
    // nothing; it is removed again if the set-up then fails.
    let mut qr = a.qr.as_deref().map(QrFile::create).transpose()?;
    let password = secrets.existing("password", "Password")?;
    let checked = signin::check_secret(&ctx.store, &a.user, Secret::Password, &password)?;
    let channel = if a.app { OtpChannel::App } else { OtpChannel::Email };
    match ctx.transact(Mode::Write, |w| credentials::set_up_channel(w, &checked, channel))? {
        SetUp::App { uri } => {
            if let Some(f) = &mut qr {
                f.write(&uri)?;
            }
            show_key_and_file(ctx, &uri, qr.as_ref().map(|f| f.path.as_path()))?;
        }
        SetUp::Email { masked_to } => {
            ctx.out.object(&json!({ "user_id": a.user, "otp_channel": "email", "sent_to": masked_to }))?;
            ctx.out.note("An OTP was sent by e-mail: sign in with `dms login --otp CODE` within 5 minutes.");
        }
    }
    Ok(())
}

/// Show a new authenticator key: the URI (JSON), and on a terminal the QR code.
pub fn show_key(ctx: &Ctx, uri: &str) -> anyhow::Result<()> {
    show_key_and_file(ctx, uri, None)
}

/// The same, naming the image file the QR code was also written to.
fn show_key_and_file(ctx: &Ctx, uri: &str, file: Option<&Path>) -> anyhow::Result<()> {
    match file {
        Some(f) => ctx.out.object(&json!({ "otpauth_uri": uri, "qr_file": f.display().to_string() }))?,
        None => ctx.out.object(&json!({ "otpauth_uri": uri }))?,
    }
    if ctx.out.for_person() {
        ctx.out.qr(uri);
    }
    ctx.out.note("Scan the QR code (or enter the key) in ForgeRock Authenticator or any TOTP app, then sign in with `dms login` and the app's code: the first accepted code confirms the device.");
    if let Some(f) = file {
        ctx.out.warn(&format!(
            "{} holds your secret key (readable only by you): delete it as soon as your app has scanned it",
            f.display()
        ));
    }
    Ok(())
}

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
