//! Pure domain rules: no I/O, no clock reads (the time is always passed in), unit-tested in
//! place. Names follow the seed's own words.

pub mod account;
pub mod bounds;
pub mod change;
pub mod credentials;
pub mod flow;
pub mod gate;
pub mod hours;
pub mod lockout;
pub mod maker_checker;
pub mod otp;
pub mod password_policy;
pub mod profile;
mod properties;
pub mod reminder;
pub mod role;
pub mod smartcard;
pub mod user_id;
