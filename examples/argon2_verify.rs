//! Benchmark helper: what argon2id alone costs on this machine, for benches/run.sh's sign-in
//! and bulk figures. One process verifies the same password against its PHC string N times with
//! dms's own `crypto::verify_secret` (the parameters every sign-in uses) and prints the median
//! time of one verification; with `--parallel P` it also runs P threads doing the same, and
//! prints the verifications per second they reach together: the ceiling no sign-in can beat.
//!
//!     cargo run --release --example argon2_verify -- [N] [--parallel P]

use dms::crypto::{hash_secret, verify_secret, SecureRng};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().filter(|a| !a.starts_with("--")).map(|a| a.parse()).transpose()?.unwrap_or(40);
    let parallel: usize = match args.iter().position(|a| a == "--parallel") {
        Some(i) => args.get(i + 1).ok_or_else(|| anyhow::anyhow!("--parallel P"))?.parse()?,
        None => 0,
    };
    let password = "Bench-Passw0rd!2026(HK)";
    let phc = hash_secret(password, &mut SecureRng::os())?;
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            assert!(verify_secret(password, &phc));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mut out = format!("{{\"verifications\": {n}, \"median_ms\": {median:.2}");
    if parallel > 0 {
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..parallel {
                s.spawn(|| {
                    for _ in 0..n {
                        assert!(verify_secret(password, &phc));
                    }
                });
            }
        });
        let per_second = (parallel * n) as f64 / t.elapsed().as_secs_f64();
        out.push_str(&format!(", \"parallel\": {parallel}, \"parallel_per_second\": {per_second:.2}"));
    }
    println!("{out}}}");
    Ok(())
}
