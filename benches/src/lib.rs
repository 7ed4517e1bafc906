//! Benchmarks for the iot-auth crates live in `benches/`; this library holds what several of
//! them share: the alternating-rounds helper of the `*_interleaved` benches, the
//! million-identity hub of the `hub` benches ([`hub`]), the certificate chains of the `x509`
//! benches ([`x509`]), the compression-only HMAC floor of the `dps_service` bench
//! ([`floor`]) and the loopback MQTT/TLS load generator of the `broker` bench ([`loadgen`]).
//!
//! Run them with `cargo bench -p iot-benches`. Every group measures one of our functions beside
//! the raw primitive it is built on (for example SAS verification beside a bare pre-keyed
//! HMAC-SHA256 of the same string to sign), in the same run, so the ratio is meaningful.

use std::time::Instant;

pub mod floor;
pub mod hub;
pub mod loadgen;
pub mod x509;

/// Mean time of one call of `f`, in nanoseconds, over `k` back-to-back calls.
pub fn per_call(k: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..k {
        f();
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(k.max(1))
}

/// Medians (and minima) of two sides measured in alternating rounds.
#[derive(Clone, Copy, Debug)]
pub struct Pair {
    /// Median per-call time of our function, ns.
    pub ours_median: f64,
    /// Fastest round of our function, ns per call.
    pub ours_min: f64,
    /// Median per-call time of the raw primitive, ns.
    pub bare_median: f64,
    /// Fastest round of the raw primitive, ns per call.
    pub bare_min: f64,
}

impl Pair {
    /// Ratio of the medians.
    pub fn ratio(&self) -> f64 {
        self.ours_median / self.bare_median
    }
}

/// Load-robust comparison: each of `rounds` rounds times `k` calls of `ours`, then `k` calls of
/// `bare`, so both sides see the same load on a shared machine (criterion's sequential groups
/// drift with it), after a tenth as many unrecorded warm-up rounds. Prints one line and
/// returns the medians and minima.
pub fn pair(
    name: &str,
    rounds: usize,
    k: u32,
    mut ours: impl FnMut(),
    mut bare: impl FnMut(),
) -> Pair {
    let rounds = rounds.max(1);
    // Warm-up rounds, not recorded: caches, branch predictors, clock ramp-up.
    for _ in 0..rounds.div_ceil(10) {
        per_call(k, &mut ours);
        per_call(k, &mut bare);
    }
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        a.push(per_call(k, &mut ours));
        b.push(per_call(k, &mut bare));
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let first = |v: &[f64]| v.first().copied().unwrap_or_default();
    let middle = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or_default();
    let result = Pair {
        ours_median: middle(&a),
        ours_min: first(&a),
        bare_median: middle(&b),
        bare_min: first(&b),
    };
    println!(
        "{name:34} ours median {:>9.0} ns (min {:>9.0}) | bare median {:>9.0} ns (min {:>9.0}) | ratio {:.3} (min {:.3})",
        result.ours_median,
        result.ours_min,
        result.bare_median,
        result.bare_min,
        result.ratio(),
        result.ours_min / result.bare_min
    );
    result
}
