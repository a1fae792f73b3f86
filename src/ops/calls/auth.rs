//! Signing in and self-service (SPEC §3, contract §8): `login` (the seed's walk-through at a
//! terminal, Appendix C: the sign-in notice, a first-time password, an expired password
//! changed, the OTP channel set up, then the code — each step its own transaction, each code
//! checked at the moment it is typed), `logout`, `whoami`, `otp request|setup`,
//! `password reset|change`, `auth settings`. Secrets are hashed before each step's
//! transaction, never while the write lock is held.
//!
//! Nothing traps a person: an OTP already sent is used again, a password that breaks the
//! policy is asked again, an unfinished app registration offers a new QR code, a wrong or
//! replayed code is asked again (up to three times).

use crate::api::{time, Channel, NewSession, Part, SettingsChange, Token};
use crate::crypto;
use crate::domain::credentials::OtpState;
use crate::domain::flow::{missing_secret, Slot, Step};
use crate::domain::gate::Method;
use crate::domain::otp::OtpChannel;
use crate::domain::password_policy;
use crate::domain::user_id::UserId;
use crate::error::{auth, classify, invalid, not_permitted, usage, Kind};
use crate::ops::calls::ANYONE;
use crate::ops::credentials::{self, NewPassword, Proof, SetUp};
use crate::ops::flow::{again, Flow, Given, Progress, TRIES};
use crate::ops::service::Exec;
use crate::ops::session;
use crate::ops::signin::{self, CardSignIn, Checked, Secret, SignedIn};
use crate::ops::work::Mode;
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// The seed's notice on the LOG IN screen (Appendix C v).
pub const SIGN_IN_NOTICE: &str = "By signing in, I confirm that the individual(s) whose personal data is disclosed in my use of this application consent to the processing of their personal data.\nUnauthorized access and use are prohibited. HKEX reserves the right to take actions against offenders.";

/// A new password for `user`: the policy, then (outside the write lock) whether it equals the
/// current one and its argon2id hash.
pub fn new_password(x: &mut Exec<'_, '_>, user: &UserId, password: &str) -> anyhow::Result<NewPassword> {
    password_policy::check(password)?;
    let same_as_current = x.db.check_secret(user, Secret::Password, password)?;
    let phc = crypto::hash_secret(password, &mut x.db.rng)?;
    Ok(NewPassword { phc, same_as_current })
}

/// A smartcard PIN as typed: 6 to 8 digits.
pub fn pin_shape(pin: &str) -> anyhow::Result<()> {
    if !(6..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("a smartcard PIN is 6 to 8 digits").into());
    }
    Ok(())
}

fn pin_step(slot: Slot, prompt: impl Into<String>) -> Step {
    Step::secret(slot, "smartcard PIN", prompt)
}

fn password_step(slot: Slot, what: &str, prompt: impl Into<String>) -> Step {
    Step::secret(slot, what, prompt)
}

// -- login -------------------------------------------------------------------------------------

/// Where a sign-in stands.
enum At {
    Start,
    /// `--otp` given (a script, or a person who has the code): the password, then both in one
    /// transaction.
    Scripted,
    Smartcard,
    /// First-time logon: the new password, typed twice.
    FirstNewPassword,
    /// First-time logon: the e-mailed OTP that sets it.
    FirstOtp(NewPassword),
    Password,
    /// The password expired: a new one first.
    Expired {
        checked: Checked,
        otp: OtpState,
    },
    /// No OTP channel yet: register a device or skip to e-mail OTP.
    Channel(Checked),
    /// Skip to e-mail OTP: the warning accepted?
    ConfirmEmail(Checked),
    /// An app registration was interrupted after its QR code.
    Resume(Checked),
    /// The code.
    Otp {
        checked: Checked,
        email: bool,
    },
    /// Smartcard: the one-time initial PIN was right; the holder's own PIN next.
    ChoosePin(Zeroizing<String>),
}

/// `login`: a scripted sign-in (`--password-stdin --otp`) in one step; at a terminal the
/// walk-through; with `--smartcard` the PIN.
pub struct Login {
    user: UserId,
    smartcard: bool,
    replaces: Option<Token>,
    session_file: String,
    given: Given,
    at: At,
    tries: usize,
}

impl Login {
    pub fn new(user: UserId, smartcard: bool, replaces: Option<Token>, session_file: String) -> Login {
        Login { user, smartcard, replaces, session_file, given: Given::default(), at: At::Start, tries: 0 }
    }

    fn replaces(&self) -> Option<&[u8]> {
        self.replaces.as_ref().map(|t| t.bytes())
    }

    fn otp_prompt(email: bool) -> Step {
        let prompt = if email { "OTP from the e-mail" } else { "Code from your authenticator app" };
        Step::text(Slot::Otp, prompt, "--otp CODE is required")
    }

    fn ask_password() -> Step {
        password_step(Slot::Password, "password", "Password (Enter alone if you have none yet, or forgot it)")
    }

    /// The first-time logon, or a forgotten password (seed Appendix C c-g): an e-mailed OTP
    /// (or the authenticator app's code) sets a new password. The same words for every ID.
    fn first_time(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        let user = self.user.clone();
        let valid_until = x.transact(Mode::Write, |w| credentials::first_time_otp(w, &user))?;
        x.say(format!(
            "First-time logon or forgotten password: if {user} sets its password with an e-mailed OTP, an 8-digit \
             OTP was sent to its registered address (valid until {}; one sent in the last 5 minutes still works). \
             With a registered authenticator app, use the app's code.",
            signin::show_time(valid_until)
        ))?;
        self.tries = 0;
        self.at = At::FirstNewPassword;
        Ok(Progress::Ask(Self::ask_new_password()))
    }

    fn reset_code_prompt() -> Step {
        Step::text(Slot::Otp, "One-time password (app code or e-mail OTP)", "--otp CODE is required")
    }

    fn ask_new_password() -> Step {
        new_password_step()
    }

    /// After the password: the OTP channel as it stands decides the next step.
    fn channel_step(&mut self, x: &mut Exec<'_, '_>, checked: Checked, otp: OtpState) -> anyhow::Result<Progress> {
        self.tries = 0;
        match otp {
            OtpState::None => {
                self.at = At::Channel(checked);
                Ok(Progress::Ask(Step::choose(
                    "Set up your OTP channel",
                    &[
                        "Register device (authenticator app: recommended, allows self-service password reset)",
                        "Skip this step (e-mail OTP; no self-service password reset)",
                    ],
                    0,
                    "--otp CODE is required",
                )))
            }
            OtpState::AppPending { .. } => {
                x.say("Your authenticator app registration was not finished.")?;
                self.at = At::Resume(checked);
                Ok(Progress::Ask(Step::choose(
                    "How do you want to go on?",
                    &[
                        "Show a new QR code (register the device again; the earlier code no longer works)",
                        "I scanned it already: enter the code the app shows",
                        "Skip this step (e-mail OTP; no self-service password reset)",
                    ],
                    0,
                    "--otp CODE is required",
                )))
            }
            OtpState::Email { .. } => {
                let user = self.user.clone();
                let sent = x.transact(Mode::Write, |w| credentials::send_logon_otp(w, &user))?;
                x.say(if sent {
                    "An OTP was sent to your registered e-mail address."
                } else {
                    "Use the OTP already sent to your e-mail (valid 5 minutes)."
                })?;
                self.at = At::Otp { checked, email: true };
                Ok(Progress::Ask(Self::otp_prompt(true)))
            }
            OtpState::App { .. } => {
                self.at = At::Otp { checked, email: false };
                Ok(Progress::Ask(Self::otp_prompt(false)))
            }
        }
    }

    fn set_up(&mut self, x: &mut Exec<'_, '_>, checked: Checked, channel: OtpChannel) -> anyhow::Result<Progress> {
        match x.transact(Mode::Write, |w| credentials::set_up_channel(w, &checked, channel))? {
            SetUp::App { uri } => {
                x.part(Part::SayQr(uri.to_string()))?;
                x.say("Scan the QR code in ForgeRock Authenticator (or any TOTP app), then enter the code it shows.")?;
            }
            SetUp::Email { masked_to } => x.say(format!("An OTP was sent to {masked_to}."))?,
        }
        self.expect_code(x, checked)
    }

    /// The code, from the channel the account has now.
    fn expect_code(&mut self, x: &mut Exec<'_, '_>, checked: Checked) -> anyhow::Result<Progress> {
        let user = self.user.clone();
        let channel = x.transact(Mode::Read, |w| Ok(signin::load(w, &user, "login")?.cred.channel()))?;
        let email = channel == Some(OtpChannel::Email);
        self.tries = 0;
        self.at = At::Otp { checked, email };
        Ok(Progress::Ask(Self::otp_prompt(email)))
    }

    /// A new password as a terminal asks it: against the policy, asked again while it breaks it.
    fn typed_new_password(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Option<(Zeroizing<String>, NewPassword)>> {
        let Some(pw) = self.given.take(Slot::NewPassword) else { return Ok(None) };
        let user = self.user.clone();
        match new_password(x, &user, &pw) {
            Ok(new) => Ok(Some((pw, new))),
            Err(e) if self.tries + 1 < TRIES && classify(&e).0 == Kind::Invalid => {
                self.tries += 1;
                x.say(classify(&e).1)?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn scripted(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.at = At::Scripted;
        if !self.given.has(Slot::Password) {
            return Ok(Progress::Ask(password_step(Slot::Password, "password", "Password")));
        }
        let (Some(code), Some(password)) = (self.given.take(Slot::Otp), self.given.take(Slot::Password)) else {
            return Err(usage(
                "--otp CODE is required without a terminal (e-mail OTP users: `dms otp request --user ID` sends one)",
            )
            .into());
        };
        let checked = x.db.check_secret(&self.user, Secret::Password, &password)?;
        let replaces = self.replaces.clone();
        let signed =
            x.transact(Mode::Write, |w| signin::login(w, &checked, code.trim(), replaces.as_ref().map(|t| t.bytes())))?;
        self.finish(x, &signed)
    }

    fn smartcard(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.at = At::Smartcard;
        let Some(pin) = self.given.take(Slot::Pin) else {
            return Ok(Progress::Ask(pin_step(Slot::Pin, "Smartcard PIN")));
        };
        pin_shape(&pin)?;
        let checked = x.db.check_secret(&self.user, Secret::SmartcardPin, &pin)?;
        let replaces = self.replaces.clone();
        let went = x.transact(Mode::Write, |w| {
            signin::login_smartcard(w, &checked, &pin, replaces.as_ref().map(|t| t.bytes()))
        })?;
        match went {
            CardSignIn::SignedIn(signed) => self.finish(x, &signed),
            CardSignIn::ChoosePin => {
                x.say(
                    "This is the one-time initial PIN that was mailed to you: now choose your own PIN (6 to 8 digits).",
                )?;
                self.tries = 0;
                self.at = At::ChoosePin(pin);
                self.choose_pin(x)
            }
        }
    }

    fn new_pin_step() -> Step {
        let what = "new smartcard PIN (the first was the one-time initial PIN: choose your own PIN of 6 to 8 digits, on the second line)";
        let mut s = Step::new_secret(Slot::NewPin, what, "New smartcard PIN");
        s.missing = "this is the one-time initial PIN: choose your own PIN (6 to 8 digits) at a terminal or on the second line of --password-stdin".into();
        s
    }

    /// The holder's own PIN after the initial one: 6 to 8 digits, not the initial PIN; asked
    /// again at a terminal while it is not.
    fn choose_pin(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        let At::ChoosePin(initial) = std::mem::replace(&mut self.at, At::Password) else {
            return Err(anyhow::anyhow!("choose_pin outside its step"));
        };
        let Some(new) = self.given.take(Slot::NewPin) else {
            self.at = At::ChoosePin(initial);
            return Ok(Progress::Ask(Self::new_pin_step()));
        };
        let bad = pin_shape(&new).err().or_else(|| {
            crate::crypto::ct_eq(new.as_bytes(), initial.as_bytes())
                .then(|| invalid("the new PIN must differ from the initial one: choose your own").into())
        });
        if let Some(e) = bad {
            if x.interactive && self.tries + 1 < TRIES {
                self.tries += 1;
                x.say(classify(&e).1)?;
                self.at = At::ChoosePin(initial);
                return Ok(Progress::Ask(Self::new_pin_step()));
            }
            return Err(e);
        }
        let phc = crate::crypto::hash_secret(&new, &mut x.db.rng)?;
        let (user, replaces) = (self.user.clone(), self.replaces.clone());
        let signed = x.transact(Mode::Write, |w| {
            signin::choose_smartcard_pin(w, &user, &initial, &phc, replaces.as_ref().map(|t| t.bytes()))
        })?;
        x.say("Your own smartcard PIN is set.")?;
        self.finish(x, &signed)
    }

    /// The session opened: the client writes its file, and who is signed in is said
    /// ("Logon Success" at a terminal).
    fn finish(&mut self, x: &mut Exec<'_, '_>, s: &SignedIn) -> anyhow::Result<Progress> {
        let a = &s.account;
        x.part(Part::Session(NewSession { user_id: a.id().to_string(), token: Token::new(&s.token) }))?;
        let now = x.db.now();
        let two_factor = s.method == Method::TwoFactor;
        let pw_expires = a.cred.password_set_at().map(password_policy::expires_at).filter(|_| two_factor);
        x.say("Logon Success")?;
        x.object(json!({
            "user_id": a.id(),
            "role": a.role().as_str(),
            "participant_id": a.profile.participant_id(),
            "method": s.method.as_str(),
            "session_file": self.session_file,
            "idle_timeout_minutes": session::idle_limit().num_minutes(),
            "session_expires_at": time(now + session::absolute_limit()),
            "password_expires_at": pw_expires.map(time),
        }))?;
        if let Some(exp) = pw_expires {
            let days = (exp - now).num_days();
            if days < 14 {
                x.warn(format!(
                    "your password expires in {days} days ({}): `dms password change`",
                    signin::show_time(exp)
                ))?;
            }
        }
        Ok(Progress::Done)
    }
}

impl Flow for Login {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        loop {
            match std::mem::replace(&mut self.at, At::Password) {
                At::Start => {
                    if let Some(code) = self.given.get(Slot::Otp) {
                        let c = code.trim();
                        if c.is_empty() || !c.bytes().all(|b| b.is_ascii_digit()) {
                            return Err(
                                invalid("--otp: a one-time password is 6 digits (app) or 8 digits (e-mail)").into()
                            );
                        }
                    }
                    x.say(SIGN_IN_NOTICE)?;
                    if self.smartcard {
                        return self.smartcard(x);
                    }
                    if !self.given.has(Slot::Otp) && !x.interactive {
                        return Err(usage(
                            "--otp CODE is required without a terminal (e-mail OTP users: `dms otp request --user ID` sends one)",
                        )
                        .into());
                    }
                    if self.given.has(Slot::Otp) {
                        return self.scripted(x);
                    }
                    // At a terminal the password is asked of every ID alike (SPEC §3: whether
                    // it has one is not told); Enter alone starts the first-time / forgotten
                    // password path.
                    self.at = At::Password;
                    return Ok(Progress::Ask(Self::ask_password()));
                }
                At::Scripted => return self.scripted(x),
                At::Smartcard => return self.smartcard(x),
                at @ At::ChoosePin(_) => {
                    self.at = at;
                    return self.choose_pin(x);
                }
                At::FirstNewPassword => match self.typed_new_password(x)? {
                    None => {
                        self.at = At::FirstNewPassword;
                        return Ok(Progress::Ask(Self::ask_new_password()));
                    }
                    Some((_, new)) => {
                        self.tries = 0;
                        self.at = At::FirstOtp(new);
                        return Ok(Progress::Ask(Self::reset_code_prompt()));
                    }
                },
                At::FirstOtp(new) => {
                    let Some(code) = self.given.take(Slot::Otp) else {
                        self.at = At::FirstOtp(new);
                        return Ok(Progress::Ask(Self::reset_code_prompt()));
                    };
                    let user = self.user.clone();
                    match x.transact(Mode::Write, |w| credentials::password_reset(w, &user, code.trim(), &new)) {
                        Ok(()) => {
                            x.say("Password set. Now sign in with it.")?;
                            self.at = At::Password;
                        }
                        Err(e) => {
                            if !again(x, &e, &mut self.tries)? {
                                return Err(e);
                            }
                            self.at = At::FirstOtp(new);
                            return Ok(Progress::Ask(Self::reset_code_prompt()));
                        }
                    }
                }
                At::Password => {
                    let Some(password) = self.given.take(Slot::Password) else {
                        self.at = At::Password;
                        return Ok(Progress::Ask(Self::ask_password()));
                    };
                    if password.is_empty() && x.interactive {
                        return self.first_time(x);
                    }
                    let checked = x.db.check_secret(&self.user, Secret::Password, &password)?;
                    // The password first, so a wrong one is told at once.
                    let acct = x.transact(Mode::Write, |w| signin::password_step(w, &checked, "login"))?;
                    let otp = acct.cred.otp().clone();
                    if acct.cred.password_expired(x.db.now()) {
                        x.say("Your password has expired (90 days): choose a new one.")?;
                        self.tries = 0;
                        self.at = At::Expired { checked, otp };
                        return Ok(Progress::Ask(Self::ask_new_password()));
                    }
                    return self.channel_step(x, checked, otp);
                }
                At::Expired { checked, otp } => match self.typed_new_password(x)? {
                    None => {
                        self.at = At::Expired { checked, otp };
                        return Ok(Progress::Ask(Self::ask_new_password()));
                    }
                    Some((pw, new)) => {
                        x.transact(Mode::Write, |w| {
                            credentials::change_password(w, &checked, &new, Proof::ExpiredPassword)
                        })?;
                        let checked = x.db.check_secret(&self.user, Secret::Password, &pw)?;
                        return self.channel_step(x, checked, otp);
                    }
                },
                At::Channel(checked) => match self.given.take_choice(2) {
                    None => {
                        self.at = At::Channel(checked);
                        return self.channel_step_again(x);
                    }
                    Some(0) => return self.set_up(x, checked, OtpChannel::App),
                    Some(_) => {
                        self.at = At::ConfirmEmail(checked);
                        return Ok(Progress::Ask(confirm_email_step()));
                    }
                },
                At::ConfirmEmail(checked) => match self.given.take_yes() {
                    None => {
                        self.at = At::ConfirmEmail(checked);
                        return Ok(Progress::Ask(confirm_email_step()));
                    }
                    Some(false) => return Err(usage("OTP channel set-up cancelled").into()),
                    Some(true) => return self.set_up(x, checked, OtpChannel::Email),
                },
                At::Resume(checked) => match self.given.take_choice(3) {
                    None => {
                        self.at = At::Resume(checked);
                        return self.channel_step_again(x);
                    }
                    Some(0) => return self.set_up(x, checked, OtpChannel::App),
                    Some(1) => return self.expect_code(x, checked),
                    Some(_) => {
                        self.at = At::ConfirmEmail(checked);
                        return Ok(Progress::Ask(confirm_email_step()));
                    }
                },
                At::Otp { checked, email } => {
                    let Some(code) = self.given.take(Slot::Otp) else {
                        self.at = At::Otp { checked, email };
                        return Ok(Progress::Ask(Self::otp_prompt(email)));
                    };
                    let replaces = self.replaces().map(<[u8]>::to_vec);
                    match x.transact(Mode::Write, |w| signin::login(w, &checked, code.trim(), replaces.as_deref())) {
                        Ok(signed) => return self.finish(x, &signed),
                        Err(e) => {
                            if !again(x, &e, &mut self.tries)? {
                                return Err(e);
                            }
                            // An e-mailed code that expired while the prompt was open is replaced.
                            let user = self.user.clone();
                            if email && x.transact(Mode::Write, |w| credentials::send_logon_otp(w, &user))? {
                                x.say("A new OTP was sent to your registered e-mail address.")?;
                            }
                            self.at = At::Otp { checked, email };
                            return Ok(Progress::Ask(Self::otp_prompt(email)));
                        }
                    }
                }
            }
        }
    }
}

impl Login {
    /// The channel menu again (an answer that was no choice of it).
    fn channel_step_again(&mut self, _x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        let resume = matches!(self.at, At::Resume(_));
        let (prompt, options): (&str, &[&str]) = if resume {
            (
                "How do you want to go on?",
                &[
                    "Show a new QR code (register the device again; the earlier code no longer works)",
                    "I scanned it already: enter the code the app shows",
                    "Skip this step (e-mail OTP; no self-service password reset)",
                ],
            )
        } else {
            (
                "Set up your OTP channel",
                &[
                    "Register device (authenticator app: recommended, allows self-service password reset)",
                    "Skip this step (e-mail OTP; no self-service password reset)",
                ],
            )
        };
        Ok(Progress::Ask(Step::choose(prompt, options, 0, "--otp CODE is required")))
    }
}

fn confirm_email_step() -> Step {
    Step::confirm(
        "With e-mail OTP you cannot reset your own password. Accept?",
        false,
        "--email needs --accept-warning: e-mail OTP users cannot use self-service password reset",
    )
}

// -- logout, whoami, otp request ---------------------------------------------------------------

pub fn logout(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let Some(token) = x.db.session.clone() else {
        return Err(auth("not signed in").into());
    };
    let (user, was_open) = x.transact(Mode::Write, |w| session::logout(w, token.bytes()))?;
    x.part(Part::EndSession)?;
    x.object(json!({ "signed_out": user, "session_was_open": was_open }))
}

pub fn whoami(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let (me, now) = x.signed_in(ANYONE, Mode::Read, |w, me| Ok((me.clone(), w.now)))?;
    x.object(json!({
        "user_id": me.account.id(),
        "role": me.role().as_str(),
        "participant_id": me.account.profile.participant_id(),
        "signed_in_at": time(me.created_at),
        "method": me.method.as_str(),
        "idle_expires_at": time(now + session::idle_limit()),
        "session_expires_at": time(me.created_at + session::absolute_limit()),
    }))
}

pub fn otp_request(x: &mut Exec<'_, '_>, user: UserId) -> anyhow::Result<()> {
    let sent = x.transact(Mode::Write, |w| credentials::request_email_otp(w, &user))?;
    // The same answer whether or not the ID has an account and an address (no enumeration).
    x.object(json!({ "user_id": user, "requested": true, "valid_until": time(sent.valid_until) }))?;
    x.note(format!(
        "If {user} has a registered e-mail address and receives OTPs by e-mail, an 8-digit OTP is on its way; it is valid for 5 minutes (until {}).",
        signin::show_time(sent.valid_until)
    ))
}

// -- otp setup ---------------------------------------------------------------------------------

/// `otp setup`: the first logon's OTP channel, outside the walk-through (scripts, `--qr FILE`).
pub struct OtpSetup {
    user: UserId,
    channel: Channel,
    accept_warning: bool,
    qr_file: Option<String>,
    given: Given,
}

impl OtpSetup {
    pub fn new(user: UserId, channel: Channel, accept_warning: bool, qr_file: Option<String>) -> OtpSetup {
        OtpSetup { user, channel, accept_warning, qr_file, given: Given::default() }
    }
}

impl Flow for OtpSetup {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        if self.channel == Channel::Email && !self.accept_warning {
            let warning = Step::confirm(
                "With e-mail OTP you cannot reset your own password (a DA, or the exchange for DAs, must reset it). Accept?",
                false,
                "--email needs --accept-warning: e-mail OTP users cannot use self-service password reset",
            );
            match self.given.take_yes() {
                None if x.interactive => return Ok(Progress::Ask(warning)),
                Some(true) => self.accept_warning = true,
                _ => return Err(usage(warning.missing).into()),
            }
        }
        let Some(password) = self.given.get(Slot::Password) else {
            return Ok(Progress::Ask(password_step(Slot::Password, "password", "Password")));
        };
        let checked = x.db.check_secret(&self.user, Secret::Password, &password)?;
        let channel = match self.channel {
            Channel::App => OtpChannel::App,
            Channel::Email => OtpChannel::Email,
        };
        match x.transact(Mode::Write, |w| credentials::set_up_channel(w, &checked, channel))? {
            SetUp::App { uri } => show_key(x, &uri, self.qr_file.as_deref())?,
            SetUp::Email { masked_to } => {
                x.object(json!({ "user_id": self.user, "otp_channel": "email", "sent_to": masked_to }))?;
                x.note("An OTP was sent by e-mail: sign in with `dms login --otp CODE` within 5 minutes.")?;
            }
        }
        Ok(Progress::Done)
    }
}

/// A new authenticator key: the URI (JSON), the QR code for a person, what to do next.
fn show_key(x: &mut Exec<'_, '_>, uri: &str, file: Option<&str>) -> anyhow::Result<()> {
    match file {
        Some(f) => x.object(json!({ "otpauth_uri": uri, "qr_file": f }))?,
        None => x.object(json!({ "otpauth_uri": uri }))?,
    }
    x.part(Part::Qr(uri.to_string()))?;
    x.note("Scan the QR code (or enter the key) in ForgeRock Authenticator or any TOTP app, then sign in with `dms login` and the app's code: the first accepted code confirms the device.")?;
    if let Some(f) = file {
        x.warn(format!(
            "{f} holds your secret key (readable only by you): delete it as soon as your app has scanned it"
        ))?;
    }
    Ok(())
}

// -- password reset and change ------------------------------------------------------------------

/// `password reset` (Forgot/Reset): the code (an e-mail OTP or the app's), then the new password.
pub struct PasswordReset {
    user: UserId,
    given: Given,
}

impl PasswordReset {
    pub fn new(user: UserId) -> PasswordReset {
        PasswordReset { user, given: Given::default() }
    }
}

impl Flow for PasswordReset {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        let Some(code) = self.given.get(Slot::Otp) else {
            let missing =
                "--otp CODE is required: an e-mail OTP (first-time logon) or the code of your authenticator app";
            if !x.interactive {
                return Err(usage(missing).into());
            }
            // The same words for every ID: which proof an account uses is not told before a
            // valid one (SPEC §3).
            x.note(
                "Enter the code of your authenticator app, or the OTP from the e-mail (`dms otp request --user ID` sends one).",
            )?;
            return Ok(Progress::Ask(Step::text(Slot::Otp, "One-time password (app code or e-mail OTP)", missing)));
        };
        let Some(password) = self.given.get(Slot::NewPassword) else {
            return Ok(Progress::Ask(new_password_step()));
        };
        let user = self.user.clone();
        let new = new_password(x, &user, &password)?;
        x.transact(Mode::Write, |w| credentials::password_reset(w, &user, code.trim(), &new))?;
        let now = x.db.now();
        x.object(
            json!({ "user_id": user, "password_set": true, "password_expires_at": time(password_policy::expires_at(now)) }),
        )?;
        x.note("Password set. Next: `dms login` (a first logon sets up the OTP channel).")?;
        Ok(Progress::Done)
    }
}

/// `password change`: the new password (twice at a terminal), then the current one; signed in,
/// or with `--user` for an expired password.
pub struct PasswordChange {
    user: Option<UserId>,
    given: Given,
}

impl PasswordChange {
    pub fn new(user: Option<UserId>) -> PasswordChange {
        PasswordChange { user, given: Given::default() }
    }
}

impl Flow for PasswordChange {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        let signed_in = x.db.peek()?.map(|(u, _)| u);
        let uid = match (&signed_in, &self.user) {
            (Some(me), Some(u)) if me != u => {
                return Err(not_permitted(format!("signed in as {me}: you can change only your own password")).into());
            }
            (Some(me), _) => me.clone(),
            (None, Some(u)) => u.clone(),
            (None, None) => {
                return Err(
                    auth("not signed in: sign in, or name --user ID (e.g. to change an expired password)").into()
                )
            }
        };
        let Some(new_pw) = self.given.get(Slot::NewPassword) else {
            return Ok(Progress::Ask(new_password_step()));
        };
        let Some(current) = self.given.get(Slot::CurrentPassword) else {
            return Ok(Progress::Ask(password_step(Slot::CurrentPassword, "current password", "Current password")));
        };
        let new = new_password(x, &uid, &new_pw)?;
        let current = x.db.check_secret(&uid, Secret::Password, &current)?;
        let token = x.db.session.clone();
        x.transact(Mode::Write, |w| match signed_in {
            Some(_) => {
                let me = session::authenticate(w, token.as_ref().map(|t| t.bytes()))?;
                credentials::change_password(w, &current, &new, Proof::Session(&me.token_hash))
            }
            None => credentials::change_password(w, &current, &new, Proof::ExpiredPassword),
        })?;
        let now = x.db.now();
        x.object(json!({ "user_id": uid, "password_changed": true, "password_expires_at": time(password_policy::expires_at(now)) }))?;
        Ok(Progress::Done)
    }
}

// -- auth settings -----------------------------------------------------------------------------

/// `auth settings --delete-device | --use-email` (seed Appendix D d): signed in, and proven
/// again with the current password and a current code of the registered app.
pub struct AuthSettings {
    change: SettingsChange,
    given: Given,
}

impl AuthSettings {
    pub fn new(change: SettingsChange) -> AuthSettings {
        AuthSettings { change, given: Given::default() }
    }
}

impl Flow for AuthSettings {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        let change = self.change;
        let (me, _) =
            x.db.peek()?
                .ok_or_else(|| auth("not signed in: run `dms login` first (or name another --session file)"))?;
        let Some(password) = self.given.get(Slot::Password) else {
            return Ok(Progress::Ask(Step {
                missing: missing_secret("current password"),
                ..password_step(Slot::Password, "current password", "Current password")
            }));
        };
        let Some(code) = self.given.get(Slot::Otp) else {
            return Ok(Progress::Ask(Step::text(
                Slot::Otp,
                "Code from your authenticator app",
                "--otp CODE is required: a current code of your authenticator app",
            )));
        };
        let password = x.db.check_secret(&me, Secret::Password, &password)?;
        let me = x.signed_in(ANYONE, Mode::Write, |w, me| {
            let keep = me.token_hash.clone();
            credentials::auth_settings(w, &mut me.account, &password, &code, change, &keep)?;
            Ok(me.account.id().clone())
        })?;
        let channel = if change == SettingsChange::DeleteDevice { Value::Null } else { json!("email") };
        x.object(json!({ "user_id": me, "otp_channel": channel, "change": change.describe() }))?;
        if change == SettingsChange::DeleteDevice {
            x.note("Device deleted: your next logon sets up the OTP channel again.")?;
        }
        Ok(Progress::Done)
    }
}

/// The new-password question, the policy said before anything is typed (issue 20: it was shown
/// only after a refusal).
fn new_password_step() -> Step {
    Step::new_secret(
        Slot::NewPassword,
        "new password",
        format!("New password ({})", crate::domain::password_policy::summary()),
    )
}
