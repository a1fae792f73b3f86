//! The one integration-test binary: every test runs the `dms` binary in a temp dir of its own
//! with a clean environment and a pinned clock. Helpers: `support` (sign-in tests),
//! `mc_support` (maker-checker), `hkex_support` (exchange side).

mod hkex_support;
mod mc_support;
mod support;

mod concurrency;
mod contract;
mod exchange;
mod hours;
mod listing;
mod lockout;
mod maker_checker;
mod otp;
mod password;
mod sessions;
mod settings;
mod signin;
mod smtp;
mod storage;
