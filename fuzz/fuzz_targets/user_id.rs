//! The ID parsers (SPEC §1) on arbitrary text: `ID|PARTICIPANT|HOUSE`, any part missing.
//! Besides never panicking: a parsed user ID is its own normal form; `classify`, the
//! business-user and DA checks and `ParticipantKey::owns` agree; generated IDs are valid;
//! error messages are escaped.

#![no_main]

use dms::domain::user_id::{self, ClearingHouse, IdKind, ParticipantId, ParticipantKey, UserId};
use libfuzzer_sys::fuzz_target;

fn escaped(m: &str) {
    assert!(!m.chars().any(char::is_control), "message not escaped: {m:?}");
    assert!(m.chars().count() < 400, "message too long: {m:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '|');
    let id_text = parts.next().unwrap_or_default();
    let p_text = parts.next().unwrap_or(id_text);
    let h_text = parts.next().unwrap_or_default();
    if let Err(e) = ClearingHouse::parse(h_text) {
        escaped(&e.to_string());
    }
    let id = UserId::parse(id_text);
    assert_eq!(dms::cli::user_id(id_text).ok(), id.clone().ok());
    match &id {
        Ok(u) => {
            assert_eq!(u.as_str().len(), 8);
            assert!(u.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{u}");
            assert_eq!(UserId::parse(u.as_str()).as_ref(), Ok(u));
            let _ = (user_id::is_operator_id(u), user_id::looks_like_da(u));
        }
        Err(e) => escaped(&e.to_string()),
    }
    for house in ClearingHouse::ALL {
        let pid = match ParticipantId::parse(p_text, house) {
            Ok(p) => p,
            Err(e) => {
                escaped(&e.to_string());
                continue;
            }
        };
        assert_eq!(ParticipantKey::parse(p_text, house).map(|k| k.id), Ok(pid.clone()));
        if let Some(first) = user_id::next_business_user_id(&pid, house, &|s| s == id_text) {
            assert_eq!(user_id::check_business_user_id(&first, &pid, house), Ok(()), "{first}");
        }
        if let Some(da) = user_id::next_da_id(&pid, house, &|s| s == id_text) {
            assert_eq!(user_id::check_da_id(&da, &pid, house), Ok(()), "{da}");
        }
        let Ok(u) = &id else { continue };
        for other in ClearingHouse::ALL {
            let kind = user_id::classify(u, &pid, other);
            assert_eq!(user_id::check_business_user_id(u, &pid, other).is_ok(), kind == Ok(IdKind::BusinessUser));
            assert_eq!(user_id::check_da_id(u, &pid, other).is_ok(), kind == Ok(IdKind::DelegatedAdministrator));
            assert_eq!(ParticipantKey { id: pid.clone(), house: other }.owns(u), kind.is_ok());
            if let Err(e) = kind {
                escaped(&e.to_string());
            }
        }
        // One customer code in both HKCC and SEOCH: no ID belongs to both.
        let hk = |h| user_id::classify(u, &pid, h).is_ok();
        assert!(!(hk(ClearingHouse::Hkcc) && hk(ClearingHouse::Seoch)), "{u} in both houses");
    }
});
