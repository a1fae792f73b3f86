//! The one integration-test binary: every test runs the `dms` binary in a temp dir of its own
//! with a clean environment and a pinned clock, through the one harness in `harness/`.

mod harness;

mod audit;
mod concurrency;
mod contract;
mod core;
mod exchange;
mod files;
mod hardening;
mod hardening3;
mod help;
mod hours;
mod init_demo;
mod irreversible;
mod json_contract;
mod listing;
mod lockout;
mod maker_checker;
mod ops;
mod otp;
mod outbox;
mod password;
mod prompt_clock;
mod prompt_flows;
mod qr_file;
mod screens;
mod secret_scan;
mod server;
mod sessions;
mod settings;
mod signin;
mod smartcards;
mod smtp;
mod storage;
mod terminal;
mod timeline;
