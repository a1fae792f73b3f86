//! The flows tests go through again and again: sign-in (seed Appendix C, SPEC §3), maker-checker
//! (SPEC §4) and the exchange's eServices (SPEC §5), each as the commands a person would type.

use super::fixtures::{line, OPERATOR, PASSWORD};
use super::run::{Exit, Run, World};
use super::totp::secret_of;
use serde_json::Value;

/// `user create` of a business user with the usual test names.
pub fn create_args<'a>(id: &'a str, email: &'a str) -> Vec<&'a str> {
    vec!["user", "create", "--user-id", id, "--surname", "Chan", "--other-names", "Siu Ming", "--email", email]
}

/// The user IDs of a `listing` document, in its order.
#[track_caller]
pub fn user_ids(listing: &Value) -> Vec<String> {
    listing["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users in {listing}"))
        .iter()
        .map(|u| u["user_id"].as_str().unwrap_or_else(|| panic!("a row without user_id: {u}")).to_string())
        .collect()
}

impl World {
    // -- sign-in ---------------------------------------------------------------------------

    /// `otp request --user USER`: mails an e-mail OTP (the cheapest service-hours probe, too).
    pub fn otp_request(&self, user: &str) -> Run {
        self.run(&["otp", "request", "--user", user], None)
    }

    /// First-time logon step 1: an e-mail OTP proves the address, then the password
    /// [`PASSWORD`] is set.
    #[track_caller]
    pub fn set_first_password(&self, user: &str) {
        self.otp_request(user).ok();
        let otp = self.last_otp();
        self.run(&["password", "reset", "--user", user, "--otp", &otp, "--password-stdin"], Some(&line(PASSWORD))).ok();
    }

    /// Register an authenticator app (password already set); returns the key, which the world
    /// keeps for [`World::totp`].
    #[track_caller]
    pub fn setup_app(&self, user: &str) -> String {
        let v = self.ok(&["otp", "setup", "--user", user, "--app", "--password-stdin"], Some(&line(PASSWORD)));
        let uri = v["otpauth_uri"].as_str().unwrap_or_else(|| panic!("no otpauth_uri in {v}"));
        assert!(uri.starts_with(&format!("otpauth://totp/HKEX:{user}?")), "{uri}");
        let key = secret_of(uri);
        self.set_key(user, &key);
        key
    }

    /// `login` into the session `NAME.session` (a user ID, or another name for a second
    /// session of the same user).
    pub fn sign_in(&self, session: &str, user: &str, password: &str, otp: &str) -> Run {
        self.as_user_stdin(session, &["login", "--user", user, "--password-stdin", "--otp", otp], &line(password))
    }

    /// On-going logon with [`PASSWORD`] and a fresh app code, into `USER.session`.
    pub fn login(&self, user: &str) -> Run {
        let code = self.totp(user);
        self.login_with(user, PASSWORD, &code)
    }

    /// `login` with this password and one-time password, into `USER.session`.
    pub fn login_with(&self, user: &str, password: &str, otp: &str) -> Run {
        self.sign_in(user, user, password, otp)
    }

    /// The whole first-time logon with an authenticator app, signed in to `USER.session`;
    /// returns the login document.
    #[track_caller]
    pub fn first_time_app(&self, user: &str) -> Value {
        self.set_first_password(user);
        self.setup_app(user);
        self.login(user).ok().json()
    }

    /// The whole first-time logon choosing e-mail OTP, signed in to `USER.session`; returns
    /// the login document.
    #[track_caller]
    pub fn first_time_email(&self, user: &str) -> Value {
        self.set_first_password(user);
        self.ok(
            &["otp", "setup", "--user", user, "--email", "--accept-warning", "--password-stdin"],
            Some(&line(PASSWORD)),
        );
        self.login_with(user, PASSWORD, &self.last_otp()).ok().json()
    }

    /// Legacy smartcard sign-in with `pin`, into `USER.session`.
    pub fn smartcard(&self, user: &str, pin: &str) -> Run {
        self.as_user_stdin(user, &["login", "--smartcard", "--user", user, "--password-stdin"], &line(pin))
    }

    /// A first smartcard sign-in with a one-time initial PIN, choosing `own`.
    pub fn smartcard_first(&self, user: &str, initial: &str, own: &str) -> Run {
        let stdin = format!("{initial}\n{own}\n");
        self.as_user_stdin(user, &["login", "--smartcard", "--user", user, "--password-stdin"], &stdin)
    }

    /// `n` wrong passwords in a row, 5 seconds apart; returns how each ended.
    pub fn wrong_passwords(&self, user: &str, n: usize) -> Vec<Exit> {
        (0..n)
            .map(|_| {
                self.advance(super::secs(5));
                self.login_with(user, super::WRONG_PASSWORD, "000000").exit()
            })
            .collect()
    }

    // -- maker-checker ---------------------------------------------------------------------

    /// A maker's command queued for a checker: insists on success, returns the request ID.
    #[track_caller]
    pub fn submit(&self, maker: &str, args: &[&str]) -> i64 {
        self.as_user(maker, args).ok().request_id()
    }

    /// `request approve IDS` by `checker` with [`PASSWORD`] and a fresh app code.
    pub fn approve(&self, checker: &str, ids: &[i64]) -> Run {
        let code = self.totp(checker);
        self.approve_with(checker, ids, &code, PASSWORD)
    }

    /// `request approve IDS` by `checker` with this OTP and password.
    pub fn approve_with(&self, checker: &str, ids: &[i64], otp: &str, password: &str) -> Run {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let mut args: Vec<&str> = vec!["request", "approve"];
        args.extend(ids.iter().map(String::as_str));
        args.extend(["--otp", otp, "--password-stdin"]);
        self.as_user_stdin(checker, &args, &line(password))
    }

    /// A maker's command authorised inline by `checker` with `password` (and the checker's
    /// fresh app code; a checker without an app types 123456).
    pub fn inline(&self, maker: &str, args: &[&str], checker: &str, password: &str) -> Run {
        let code = if self.has_key(checker) { self.totp(checker) } else { "123456".into() };
        let mut all = args.to_vec();
        all.extend(["--checker", checker, "--otp", &code, "--password-stdin"]);
        self.as_user_stdin(maker, &all, &line(password))
    }

    /// `request show ID` as `who`.
    #[track_caller]
    pub fn request_show(&self, who: &str, id: i64) -> Value {
        self.as_user(who, &["request", "show", &id.to_string()]).ok().json()
    }

    /// The rows of `request list [--status STATUS]` as `who`.
    #[track_caller]
    pub fn request_list(&self, who: &str, status: Option<&str>) -> Vec<Value> {
        let mut args = vec!["request", "list"];
        if let Some(s) = status {
            args.extend(["--status", s]);
        }
        let v = self.as_user(who, &args).ok().json();
        v["requests"].as_array().unwrap_or_else(|| panic!("no requests in {v}")).clone()
    }

    /// `user enquire USER` as `who`.
    #[track_caller]
    pub fn enquire(&self, who: &str, user: &str) -> Value {
        self.as_user(who, &["user", "enquire", user]).ok().json()
    }

    /// `audit verify` reports an intact chain.
    #[track_caller]
    pub fn assert_audit_ok(&self) {
        let r = self.run(&["audit", "verify"], None).ok();
        assert_eq!(r.json()["ok"], true, "audit verify:\n{r}");
    }

    // -- the exchange ----------------------------------------------------------------------

    /// `hkex participant add` as the operator.
    pub fn participant_add(&self, id: &str, name: &str, house: &str, max_users: u32) -> Run {
        let max = max_users.to_string();
        self.op(&["hkex", "participant", "add", "--id", id, "--name", name, "--house", house, "--max-users", &max])
    }

    /// eService DA3 add as the operator (other names: TEST).
    pub fn da3_add(&self, participant: &str, role: &str, surname: &str, email: &str) -> Run {
        self.as_user(OPERATOR, &da3_add_args(participant, role, surname, email))
    }

    /// `hkex account add` (an operator or an auditor of the exchange) as the operator.
    pub fn account_add(&self, role: &str, surname: &str, other_names: &str, email: &str) -> Run {
        self.op(&[&["hkex", "account", "add"][..], &person(role, surname, other_names, email)].concat())
    }

    /// Run `f` as a migration runs: before the 2FA launch (from it an import adds no DA and sets
    /// no PIN). The launch is moved to a month after the clock (decommissioning too, if it came
    /// sooner) and both are put back after; the operator must be signed in.
    pub fn before_launch<T>(&self, f: impl FnOnce() -> T) -> T {
        let shown = self.op(&["hkex", "settings", "show"]).ok().json();
        let get = |k: &str| shown[k].as_str().unwrap_or_else(|| panic!("no {k} in {shown}")).to_string();
        let (launch, decommission) = (get("launch-date"), get("decommission-date"));
        let ahead = (self.now() + chrono::Duration::days(31)).format("%Y-%m-%d").to_string();
        if decommission < ahead {
            self.setting("decommission-date", &ahead).ok();
        }
        self.setting("launch-date", &ahead).ok();
        let out = f();
        self.setting("launch-date", &launch).ok();
        self.setting("decommission-date", &decommission).ok();
        out
    }

    /// `hkex settings set KEY VALUE` as the operator.
    pub fn setting(&self, key: &str, value: &str) -> Run {
        self.op(&["hkex", "settings", "set", key, value])
    }

    /// The user IDs the operator's listing of `participant` shows, and its quota object.
    #[track_caller]
    pub fn listing(&self, participant: &str) -> (Vec<String>, Value) {
        let v = self.op(&["listing", "--participant", participant]).ok().json();
        (user_ids(&v), v["quota"].clone())
    }

    /// The row of `user` in the operator's listing of `participant`.
    #[track_caller]
    pub fn listed(&self, participant: &str, user: &str) -> Value {
        let v = self.op(&["listing", "--participant", participant]).ok().json();
        v["users"]
            .as_array()
            .and_then(|rows| rows.iter().find(|u| u["user_id"] == user))
            .unwrap_or_else(|| panic!("{user} is not listed for {participant}: {v}"))
            .clone()
    }
}

/// `hkex da3 add` arguments (other names: TEST), for whoever runs them.
pub fn da3_add_args<'a>(participant: &'a str, role: &'a str, surname: &'a str, email: &'a str) -> Vec<&'a str> {
    [&["hkex", "da3", "add", "--participant", participant][..], &person(role, surname, "TEST", email)].concat()
}

/// The arguments that describe a new person.
fn person<'a>(role: &'a str, surname: &'a str, other_names: &'a str, email: &'a str) -> [&'a str; 8] {
    ["--role", role, "--surname", surname, "--other-names", other_names, "--email", email]
}
