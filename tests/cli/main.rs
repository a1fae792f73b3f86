//! The one integration-test binary: every test runs the `dms` binary in a temp dir of its own
//! with a clean environment and a pinned clock (see `support`).

mod listing;
mod maker_checker;
mod mc_support;
mod support;

mod concurrency;
mod contract;
mod hours;
mod lockout;
mod otp;
mod password;
mod sessions;
mod settings;
mod signin;
mod storage;
