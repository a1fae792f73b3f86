//! Reports for auditors (SPEC §6, built from the seed's checklist, section 9). Stable columns;
//! CSV and JSON stream row by row.

use crate::api::{ListEnd, ListHead, Part, ReportKind, ReportQuery, Sink};
use crate::domain::maker_checker as mc;
use crate::domain::password_policy;
use crate::domain::profile::{self, Cents};
use crate::domain::role::Role;
use crate::error::{invalid, usage};
use crate::ops::calls::READERS;
use crate::ops::service::Exec;
use crate::ops::views;
use crate::ops::work::Mode;
use crate::storage::{audit, eservices, parse_ts, participants, requests, ts, users};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use serde_json::json;

/// The start of a Hong Kong calendar day, in UTC.
fn hk_day_start(d: chrono::NaiveDate) -> DateTime<Utc> {
    crate::domain::hours::hkt()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The period [from, to] in Hong Kong days, as UTC bounds [start, end).
fn period(a: &ReportQuery) -> anyhow::Result<(Option<String>, Option<String>)> {
    let (from, to) = hk_period(a.from.as_deref(), a.to.as_deref())?;
    Ok((from.map(ts), to.map(ts)))
}

/// A period's UTC bounds [start, end), each open when not given.
pub type Bounds = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `--from DATE --to DATE` (Hong Kong days, both included) as UTC bounds [start, end).
pub fn hk_period(from: Option<&str>, to: Option<&str>) -> anyhow::Result<Bounds> {
    let from = from.map(|d| profile::parse_date("from", d)).transpose()?;
    let to = to.map(|d| profile::parse_date("to", d)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(invalid("--from must not be after --to").into());
        }
    }
    Ok((from.map(hk_day_start), to.map(|d| hk_day_start(d + Duration::days(1)))))
}

pub fn run(x: &mut Exec<'_, '_>, a: &ReportQuery) -> anyhow::Result<()> {
    let (from, to) = period(a)?;
    if a.after_seq.is_some() && a.kind != ReportKind::Audit {
        return Err(usage("--after-seq applies only to `report audit`").into());
    }
    let out = &mut *x.out;
    x.db.signed_in(READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, a.participant.as_deref(), a.house, true, "reports on")?;
        let stamp = Stamp::of(a, scope.as_ref(), me.account.id(), w.now);
        report(&w.tx, out, &stamp, a, scope.as_ref(), from, to, w.now)
    })?;
    x.flush()
}

/// What a report says of itself (issue 19 #7): a table begins with a title line — the report,
/// its participant or the exchange, the period, when and by whom it was made — and ends with its
/// row count; JSON carries `generated_at`, `generated_by` and `filters`; CSV and JSON Lines stay
/// rows only.
struct Stamp {
    title: Option<String>,
    extras: Vec<(String, serde_json::Value)>,
}

impl Stamp {
    fn of(
        a: &ReportQuery,
        scope: Option<&participants::Participant>,
        by: &crate::domain::user_id::UserId,
        now: DateTime<Utc>,
    ) -> Stamp {
        let name = match a.kind {
            ReportKind::Readiness => "Readiness",
            ReportKind::Locked => "Locked accounts",
            ReportKind::Expiring => "Expiring passwords",
            ReportKind::Dormant => "Dormant accounts",
            ReportKind::Requests => "Requests",
            ReportKind::Audit => "Audit trail",
            ReportKind::Da4Fees => "DA4 fees",
        };
        let whom = scope.map_or_else(|| "exchange-wide".to_string(), |p| format!("participant {} {}", p.key, p.name));
        let period = match (a.from.as_deref(), a.to.as_deref()) {
            (None, None) => String::new(),
            (f, t) => format!(", {} to {}", f.unwrap_or("the start"), t.unwrap_or("now")),
        };
        let at = crate::api::time(now);
        let shown = crate::domain::hours::hong_kong(now).format("%d-%b-%y %H:%M:%S HKT");
        let mut filters = serde_json::Map::new();
        let mut put = |k: &str, v: serde_json::Value| {
            if !v.is_null() {
                filters.insert(k.to_string(), v);
            }
        };
        put("participant", json!(scope.map(|p| p.id())));
        put("house", json!(scope.map(|p| p.house().as_str())));
        put("from", json!(a.from));
        put("to", json!(a.to));
        put("days", json!(a.days));
        put("after_seq", json!(a.after_seq));
        put("actor", json!(a.actor));
        put("action", json!(a.action));
        put("subject", json!(a.subject));
        Stamp {
            title: Some(format!("{name} report, {whom}{period}; generated {shown} by {by}")),
            extras: vec![
                ("generated_at".into(), json!(at)),
                ("generated_by".into(), json!(by)),
                ("filters".into(), serde_json::Value::Object(filters)),
            ],
        }
    }

    /// No title and no extras (a list that is not a report).
    fn none() -> Stamp {
        Stamp { title: None, extras: Vec::new() }
    }
}

/// A list streamed into the reply: its head now, a row at a time, its end.
struct Rows<'a> {
    out: &'a mut dyn Sink,
    stamp: &'a Stamp,
    n: usize,
}

impl<'a> Rows<'a> {
    fn start(out: &'a mut dyn Sink, stamp: &'a Stamp, mut head: ListHead) -> std::io::Result<Rows<'a>> {
        head.title = stamp.title.clone();
        out.part(Part::List(head))?;
        Ok(Rows { out, stamp, n: 0 })
    }

    fn push(&mut self, row: Vec<serde_json::Value>) -> std::io::Result<()> {
        self.n += 1;
        self.out.part(Part::Row(row))
    }

    fn finish(self, extras: &[(&str, serde_json::Value)], footer: Option<&str>) -> std::io::Result<()> {
        let mut all: Vec<(String, serde_json::Value)> =
            extras.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        all.extend(self.stamp.extras.iter().cloned());
        // A report's table ends with its row count, after its own footer.
        let count =
            self.stamp.title.as_ref().map(|_| format!("{} row{}\n", self.n, if self.n == 1 { "" } else { "s" }));
        let footer = match (footer, count) {
            (Some(f), Some(c)) => Some(format!("{f}{c}")),
            (f, c) => f.map(str::to_string).or(c),
        };
        self.out.part(Part::End(ListEnd { extras: all.into_iter().collect(), footer }))
    }
}

#[allow(clippy::too_many_arguments)] // the report's inputs, one each
fn report(
    tx: &rusqlite::Connection,
    out: &mut dyn Sink,
    stamp: &Stamp,
    a: &ReportQuery,
    scope_p: Option<&participants::Participant>,
    from: Option<String>,
    to: Option<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let scope_key = scope_p.map(|p| &p.key);
    let scope = scope_p.map(|p| p.id());
    match a.kind {
        ReportKind::Readiness => {
            let cols = ["participant_id", "user_id", "role", "finding", "detail"];
            let mut out = Rows::start(out, stamp, ListHead::new("findings", &cols))?;
            let parts: Vec<_> =
                participants::list(tx)?.into_iter().filter(|p| scope_key.is_none_or(|s| *s == p.key)).collect();
            let mut summary = serde_json::Map::new();
            let mut count = |k: &str| {
                *summary.entry(k.to_string()).or_insert(json!(0)) =
                    json!(summary.get(k).and_then(|v| v.as_i64()).unwrap_or(0) + 1)
            };
            for p in &parts {
                // Readiness is for the launch: the launch's minimum, whatever today's.
                let (das, _) = crate::ops::maker_checker::da_counts_today(tx, &p.key, now)?;
                if das.makers < mc::MIN_MAKERS || das.checkers < mc::MIN_CHECKERS {
                    count("da-minimum-not-met");
                    out.push(vec![
                        json!(p.id()),
                        json!(null),
                        json!(null),
                        json!("da-minimum-not-met"),
                        json!(format!("{} enabled maker(s), {} checker(s); needs 1 and 2", das.makers, das.checkers)),
                    ])?;
                }
            }
            let shared = users::shared_emails(tx, scope_key)?;
            let domains: std::collections::HashMap<(String, String), Vec<String>> = parts
                .iter()
                .map(|p| ((p.id().to_string(), p.house().as_str().to_string()), p.domains.clone()))
                .collect();
            users::for_each_listing_row(
                tx,
                &users::ListingFilter { participant: scope_key, ..Default::default() },
                |r| {
                    let pid = r.participant_id.clone().unwrap_or_default();
                    let mut finding = |f: &str, detail: String| -> anyhow::Result<()> {
                        count(f);
                        out.push(vec![json!(pid), json!(r.user_id), json!(r.role), json!(f), json!(detail)])?;
                        Ok(())
                    };
                    if r.channel == "PG" {
                        // Participant Gateway users keep their smartcards; 2FA does not apply.
                        let srn = r.srn.clone().unwrap_or_else(|| "none issued yet".into());
                        return finding(
                            "pg-smartcard",
                            format!("Participant Gateway user (SRN {srn}): smartcard only"),
                        );
                    }
                    match &r.email {
                        None => finding(
                            "no-email",
                            "register an e-mail address: it is needed to set the first password".into(),
                        )?,
                        Some(e) => {
                            if profile::looks_like_group_address(e) {
                                finding("group-address", format!("{e}: OTPs authenticate one individual"))?;
                            }
                            let corp = domains
                                .get(&(pid.clone(), r.house.clone().unwrap_or_default()))
                                .cloned()
                                .unwrap_or_default();
                            if !corp.is_empty()
                                && !corp.iter().any(|d| d.eq_ignore_ascii_case(profile::email_domain(e)))
                            {
                                finding("non-corporate-address", format!("{e}: not on {}", corp.join(", ")))?;
                            }
                            if let Some(n) = shared.get(&e.to_lowercase()) {
                                finding("shared-address", format!("{e} is on {n} profiles"))?;
                            }
                        }
                    }
                    if !r.otp_confirmed {
                        if r.srn.is_some() {
                            finding(
                                "smartcard-only",
                                format!("SRN {}: 2FA not initialised yet", r.srn.clone().unwrap_or_default()),
                            )?;
                        } else {
                            finding("not-initialised", "2FA not initialised (no password and OTP channel yet)".into())?;
                        }
                    }
                    Ok(())
                },
            )?;
            out.finish(&[("summary", serde_json::Value::Object(summary.clone()))], None)?;
        }
        ReportKind::Locked => {
            let cols = ["participant_id", "user_id", "role", "locked_at", "unlock_by"];
            let mut out = Rows::start(out, stamp, ListHead::new("locked", &cols))?;
            users::for_each_listing_row(
                tx,
                &users::ListingFilter { participant: scope_key, ..Default::default() },
                |r| {
                    if let Some(at) = &r.locked_at {
                        let role: Role = r.role.parse().unwrap_or(Role::User);
                        out.push(vec![
                            json!(r.participant_id),
                            json!(r.user_id),
                            json!(r.role),
                            json!(at),
                            json!(role.unlocked_by()),
                        ])?;
                    }
                    Ok(())
                },
            )?;
            out.finish(&[], None)?;
        }
        ReportKind::Expiring => {
            let days = a.days.unwrap_or(14);
            let cols = ["participant_id", "user_id", "role", "password_set_at", "password_expires_at", "expired"];
            let mut out = Rows::start(out, stamp, ListHead::new("passwords", &cols))?;
            users::for_each_listing_row(
                tx,
                &users::ListingFilter { participant: scope_key, ..Default::default() },
                |r| {
                    if let Some(set) = &r.password_set_at {
                        let exp = password_policy::expires_at(parse_ts(set)?);
                        if exp <= now + Duration::days(days) {
                            out.push(vec![
                                json!(r.participant_id),
                                json!(r.user_id),
                                json!(r.role),
                                json!(set),
                                json!(crate::api::time(exp)),
                                json!(exp <= now),
                            ])?;
                        }
                    }
                    Ok(())
                },
            )?;
            out.finish(&[], None)?;
        }
        ReportKind::Dormant => {
            let days = a.days.unwrap_or(90);
            let cutoff = now - Duration::days(days);
            let cols = ["participant_id", "user_id", "role", "status", "created_at", "last_login_at"];
            let mut out = Rows::start(out, stamp, ListHead::new("dormant", &cols))?;
            users::for_each_listing_row(
                tx,
                &users::ListingFilter { participant: scope_key, inactive_since: Some(cutoff), ..Default::default() },
                |r| {
                    out.push(vec![
                        json!(r.participant_id),
                        json!(r.user_id),
                        json!(r.role),
                        json!(r.status),
                        json!(r.created_at),
                        json!(r.last_login_at),
                    ])?;
                    Ok(())
                },
            )?;
            out.finish(&[], None)?;
        }
        ReportKind::Requests => {
            let mut out =
                Rows::start(out, stamp, ListHead::new("requests", crate::ops::calls::request::REQUEST_COLUMNS))?;
            let filter = requests::RequestFilter { participant: scope_key, ..Default::default() };
            requests::for_each(tx, &filter, now, |r| {
                let at = ts(r.created_at);
                if from.as_ref().is_some_and(|f| at < *f) || to.as_ref().is_some_and(|t| at >= *t) {
                    return Ok(());
                }
                out.push(crate::ops::calls::request::row(&r))?;
                Ok(())
            })?;
            out.finish(&[], None)?;
        }
        ReportKind::Audit => {
            // `via`: who called (SPEC §10), the operating-system account or the TLS peer.
            let cols = ["seq", "at", "actor", "action", "subject", "participant_id", "detail", "via"];
            // `detail` is JSON text: JSON Lines carry it parsed, for a SIEM.
            let mut out = Rows::start(out, stamp, ListHead::new("audit", &cols).json_text(&["detail"]))?;
            let selection = audit::Selection {
                from: from.as_deref(),
                to: to.as_deref(),
                after_seq: a.after_seq,
                participant: scope,
                subject: a.subject.as_ref().map(|s| s.as_str()),
            };
            let actor = a.actor.as_deref().map(|s| s.trim().to_ascii_uppercase());
            audit::for_each(tx, &selection, |r| {
                if actor.as_deref().is_some_and(|x| r.actor.as_deref() != Some(x))
                    || a.action.as_deref().is_some_and(|p| !r.action.starts_with(p.trim()))
                {
                    return Ok(());
                }
                out.push(vec![
                    json!(r.seq),
                    json!(crate::api::time_text(&r.at)),
                    json!(r.actor),
                    json!(r.action),
                    json!(r.subject),
                    json!(r.participant_id),
                    json!(r.detail),
                    r.via
                        .as_deref()
                        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                        .unwrap_or_default(),
                ])?;
                Ok(())
            })?;
            out.finish(&[], None)?;
        }
        ReportKind::Da4Fees => {
            let cols = ["reference", "participant_id", "accounts", "fee_hkd", "processed_at"];
            let mut out = Rows::start(out, stamp, ListHead::new("da4", &cols))?;
            let mut total = 0i64;
            for f in eservices::da4_fees(tx, scope, from.as_deref(), to.as_deref())? {
                total += f.fee_cents;
                out.push(vec![
                    json!(f.reference),
                    json!(f.participant_id),
                    json!(f.accounts),
                    json!(Cents(f.fee_cents).plain()),
                    json!(crate::api::time_text(&f.processed_at)),
                ])?;
            }
            let footer = format!("TOTAL FEES (HKD): {}\n", Cents(total).display());
            out.finish(&[("total_fee_hkd", json!(Cents(total).plain()))], Some(&footer))?;
        }
    }
    Ok(())
}

/// `dms user history ID`: every audit event about one profile, oldest first — each request's
/// submission, approval and what it changed (before → after), resets, eService changes — with
/// its sign-in events summarised in one line (how many, the first and last, how many failed).
pub fn history(x: &mut Exec<'_, '_>, uid: &crate::domain::user_id::UserId) -> anyhow::Result<()> {
    let cols = ["seq", "at", "action", "actor", "request_id", "change", "detail"];
    let out = &mut *x.out;
    x.db.signed_in(READERS, Mode::Read, |w, me| {
        // Who may enquire the profile may read its history (a DA: its own participant's).
        crate::ops::views::enquire(w, me, uid)?;
        let stamp = Stamp::none();
        let mut rows = Rows::start(out, &stamp, ListHead::new("history", &cols).json_text(&["detail"]))?;
        let (mut signins, mut failed) = (0u64, 0u64);
        let (mut first, mut last): (Option<String>, Option<String>) = (None, None);
        let selection = audit::Selection { subject: Some(uid.as_str()), ..Default::default() };
        audit::for_each(&w.tx, &selection, |r| {
            if r.action.starts_with("signin.") || r.action.starts_with("session.") {
                signins += 1;
                failed += u64::from(r.action.contains("fail") || r.action.contains("unmatched"));
                first.get_or_insert_with(|| r.at.clone());
                last = Some(r.at.clone());
                return Ok(());
            }
            let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
            let change = detail["change"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let (b, a) = crate::domain::change::before_after(v);
                            format!("{k}: {} -> {}", brief(&b), brief(&a))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            rows.push(vec![
                json!(r.seq),
                json!(crate::api::time_text(&r.at)),
                json!(r.action),
                json!(r.actor),
                detail["request_id"].clone(),
                json!(change),
                json!(r.detail),
            ])?;
            Ok(())
        })?;
        let summary = json!({
            "events": signins, "failed": failed,
            "first": first.as_deref().map(crate::api::time_text), "last": last.as_deref().map(crate::api::time_text),
        });
        let footer = (signins > 0).then(|| {
            format!(
                "Sign-in events: {signins} ({failed} failed), {} to {}.",
                first.as_deref().map(crate::api::time_text).unwrap_or_default(),
                last.as_deref().map(crate::api::time_text).unwrap_or_default()
            )
        });
        rows.finish(&[("user_id", json!(uid)), ("sign_ins", summary)], footer.as_deref())?;
        Ok(())
    })?;
    x.flush()
}

/// A value as the history's change column writes it: text bare, lists space-separated.
fn brief(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(brief).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}
