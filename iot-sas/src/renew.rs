//! Token lifetime helpers, with time passed in (reference §1.7).

/// The expiry of a token issued at `now` for `ttl_secs` seconds (`now + ttl`, saturating at
/// `u64::MAX`). SDK defaults: 3600 s for device tokens, 1 day for csharp DPS (§1.7).
pub fn expiry_from_ttl(now: u64, ttl_secs: u64) -> u64 {
    now.saturating_add(ttl_secs)
}

/// True when a token expiring at `expiry` should be replaced at `now`, i.e. less than
/// `margin_secs` remain (`now + margin >= expiry`, saturating). The python SDK renews 120 s
/// before expiry, node 900 s (§1.7).
pub fn should_renew(expiry: u64, now: u64, margin_secs: u64) -> bool {
    now.saturating_add(margin_secs) >= expiry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_from_ttl_saturates() {
        assert_eq!(expiry_from_ttl(1_700_000_000, 3600), 1_700_003_600);
        assert_eq!(expiry_from_ttl(u64::MAX - 1, 3600), u64::MAX);
    }

    #[test]
    fn should_renew_with_margin() {
        let expiry = 1_700_003_600;
        assert!(!should_renew(expiry, 1_700_003_479, 120));
        assert!(should_renew(expiry, 1_700_003_480, 120));
        assert!(should_renew(expiry, expiry + 10, 0));
        assert!(!should_renew(expiry, expiry - 1, 0));
        assert!(should_renew(u64::MAX, u64::MAX - 5, 10));
    }
}
