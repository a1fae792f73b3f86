//! The one integration-test binary: every test runs the `dms` binary in a temp dir of its own
//! with a clean environment and a pinned clock, through the one harness in `harness/`.

mod harness;

mod concurrency;
mod contract;
mod core;
mod exchange;
mod files;
mod hardening;
mod help;
mod hours;
mod init_demo;
mod irreversible;
mod listing;
mod lockout;
mod maker_checker;
mod otp;
mod outbox;
mod password;
mod prompt_clock;
mod qr_file;
mod secret_scan;
mod sessions;
mod settings;
mod signin;
mod smtp;
mod storage;
mod terminal;
mod timeline;
