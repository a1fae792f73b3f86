//! `user enquire` (Enquire User Profile, seed 4.3): exactly the fields that apply to the
//! profile's state.

use crate::commands::{signed_in, READERS};
use crate::context::{Ctx, Mode};
use crate::domain::profile::{self, AccessChannel};
use crate::domain::user_id::UserId;
use crate::ops::views::{self, Enquiry};
use serde_json::{json, Value};

pub fn run(ctx: &mut Ctx, uid: UserId) -> anyhow::Result<()> {
    let e = signed_in(ctx, READERS, Mode::Read, |w, me| views::enquire(w, me, &uid))?;
    ctx.out.object(&enquiry(&e))?;
    Ok(())
}

pub fn enquiry(e: &Enquiry) -> Value {
    let p = &e.account.profile;
    let cred = &e.account.cred;
    let mut m = serde_json::Map::new();
    let organisation = match &e.participant {
        Some(pt) => format!("{} {}", pt.id(), pt.name),
        None => "HKEX".to_string(),
    };
    m.insert("organisation".into(), json!(organisation));
    m.insert("internal_external".into(), json!(if p.role.is_internal() { "INTERNAL" } else { "EXTERNAL" }));
    m.insert("user_id".into(), json!(p.user_id));
    m.insert("role".into(), json!(p.role.label()));
    m.insert("user_status".into(), json!(p.status));
    m.insert("surname".into(), json!(p.surname));
    m.insert("other_names".into(), json!(p.other_names));
    m.insert("email".into(), json!(p.email));
    m.insert("enable_from".into(), json!(p.enable_from.map(profile::format_date)));
    m.insert("disable_after".into(), json!(p.disable_after.map(profile::format_date)));
    if cred.initialised() {
        // Seed 4.3: once 2FA is initialised, Locked and OTP Enabled appear...
        m.insert("locked".into(), json!(if cred.locked() { "Yes" } else { "No" }));
        m.insert("otp_enabled".into(), json!("Yes"));
        m.insert("otp_channel".into(), json!(cred.channel().map(|c| c.as_str())));
    } else if let Some(card) = p.smartcard.as_ref().filter(|_| !e.decommissioned || p.channel == AccessChannel::Pg) {
        // ...and until then the smartcard fields stay; on the PG channel the smartcard outlives
        // decommissioning (SPEC §2), so its fields do too.
        m.insert("srn".into(), json!(card.srn));
        m.insert("certificate_expiry_date".into(), json!(card.cert_expiry.format("%Y-%m-%d %H:%M:%S").to_string()));
    }
    if let Some(pt) = &e.participant {
        m.insert("clearing_house_options".into(), json!(pt.house().clearing_house_option()));
    }
    m.insert("access_channel".into(), json!(p.channel));
    m.insert("transaction_limit_hkd".into(), json!(p.limit.display()));
    m.insert("user_groups".into(), json!(p.groups.codes()));
    Value::Object(m)
}
