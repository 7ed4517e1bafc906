//! The real clock and OS randomness, the inputs the sans-I/O state machines take as values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom as _, SystemRandom};

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A uniformly random duration in `0..=max` at millisecond resolution, from the OS generator
/// (zero if the generator fails, which only removes the spreading).
pub(crate) fn jitter(rng: &SystemRandom, max: Duration) -> Duration {
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if max_ms == 0 {
        return Duration::ZERO;
    }
    let mut bytes = [0u8; 8];
    if rng.fill(&mut bytes).is_err() {
        return Duration::ZERO;
    }
    let draw = u64::from_le_bytes(bytes) % max_ms.saturating_add(1);
    Duration::from_millis(draw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range_and_varies() {
        let rng = SystemRandom::new();
        let max = Duration::from_millis(500);
        let draws: Vec<_> = (0..64).map(|_| jitter(&rng, max)).collect();
        assert!(draws.iter().all(|d| *d <= max));
        assert!(draws.iter().any(|d| *d != draws[0]), "{draws:?}");
        assert_eq!(jitter(&rng, Duration::ZERO), Duration::ZERO);
        assert!(unix_now() > 1_700_000_000);
    }
}
