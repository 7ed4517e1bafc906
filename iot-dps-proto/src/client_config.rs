//! Timing rules of the registration flow: intervals, `retry-after` clamping, back-off and the
//! per-device polling limit (reference §5.5). Pure functions of their arguments.

use core::time::Duration;

/// Most requests a device may send in any [`POLLING_WINDOW`]: DPS allows "device polling
/// 5 per 10 s per device", and a status lookup counts as a registration (reference §5.5,
/// DOC includes/iot-dps-limits). The client applies it to every request it sends.
pub const POLLING_LIMIT: usize = 5;
/// The window of [`POLLING_LIMIT`]: 10 s.
pub const POLLING_WINDOW: Duration = Duration::from_secs(10);

/// Timing settings of a [`ProvisioningClient`](crate::ProvisioningClient).
///
/// Defaults, each with its source (reference §5.5):
///
/// | setting | default | why |
/// | --- | --- | --- |
/// | `default_interval` | 2 s | python, node and csharp poll every 2 s when no `retry-after` is given; 2 s is also exactly the polling limit (5 per 10 s) |
/// | `min_retry_after`..=`max_retry_after` | 1 s ..= 300 s | iot-sdk-c keeps a `retry-after` only within 1..=300 s (`MAX_PROV_GET_THROTTLE_TIME` = 5*60); we clamp into that range instead of discarding, so a long service wait is honoured as far as is sane |
/// | `backoff_initial` | 5 s | docs: retry 5xx "with exponential back-off starting at >= 5 s" |
/// | `backoff_max` | 60 s | ours: a cap so a device recovers within a minute of the service |
/// | `response_timeout` | 30 s | python and node per-request timeout |
/// | `deadline` | 600 s | ours: whole flow, generous enough for 300 s `retry-after` plus back-offs |
///
/// The caller's jitter ([`ProvisioningClient::set_jitter`](crate::ProvisioningClient::set_jitter))
/// is added to every wait the client chooses itself (default interval, back-off), never to a
/// service-given `retry-after` (csharp adds 0..5 s of jitter only when no `retry-after` came).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Wait before polling when the answer had no `retry-after`.
    pub default_interval: Duration,
    /// Lower clamp of a service `retry-after`.
    pub min_retry_after: Duration,
    /// Upper clamp of a service `retry-after`.
    pub max_retry_after: Duration,
    /// First back-off after a 429 without `retry-after` or a 5xx; doubles per failure in a row.
    pub backoff_initial: Duration,
    /// Largest back-off.
    pub backoff_max: Duration,
    /// A request without an answer after this long is considered lost and sent again.
    pub response_timeout: Duration,
    /// The whole registration fails with `DeadlineExceeded` this long after `start`.
    pub deadline: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            default_interval: Duration::from_secs(2),
            min_retry_after: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(300),
            backoff_initial: Duration::from_secs(5),
            backoff_max: Duration::from_secs(60),
            response_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(600),
        }
    }
}

impl ClientConfig {
    /// Sets the overall deadline.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the per-request response timeout.
    #[must_use]
    pub fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// A service `retry-after` clamped into `min_retry_after..=max_retry_after`.
    pub fn clamp_retry_after(&self, secs: u32) -> Duration {
        let max = self.max_retry_after.max(self.min_retry_after);
        Duration::from_secs(u64::from(secs)).clamp(self.min_retry_after, max)
    }

    /// Wait before the next poll after an `assigning` answer: the clamped `retry-after`, or
    /// `default_interval + jitter` when absent.
    pub fn poll_interval(&self, retry_after: Option<u32>, jitter: Duration) -> Duration {
        match retry_after {
            Some(secs) => self.clamp_retry_after(secs),
            None => self.default_interval.saturating_add(jitter),
        }
    }

    /// Exponential back-off for the `failures`-th transient failure in a row (1-based):
    /// `backoff_initial * 2^(failures-1)`, capped at `backoff_max`, plus `jitter`
    /// (azure-sdk-for-c `az_iot_calculate_retry_delay` shape: jitter is an argument).
    pub fn backoff(&self, failures: u32, jitter: Duration) -> Duration {
        let exponent = failures.saturating_sub(1).min(20);
        let base = self.backoff_initial.saturating_mul(1u32 << exponent);
        base.min(self.backoff_max.max(self.backoff_initial))
            .saturating_add(jitter)
    }

    /// Wait after a 429 (throttled): the clamped `retry-after` when given (docs: "retry 429
    /// after Retry-After"), else the back-off.
    pub fn throttled_wait(
        &self,
        retry_after: Option<u32>,
        failures: u32,
        jitter: Duration,
    ) -> Duration {
        match retry_after {
            Some(secs) => self.clamp_retry_after(secs),
            None => self.backoff(failures, jitter),
        }
    }

    /// Wait after a 5xx: the back-off (docs: exponential, starting at >= 5 s), and at least the
    /// clamped `retry-after` if the service sent one.
    pub fn server_error_wait(
        &self,
        retry_after: Option<u32>,
        failures: u32,
        jitter: Duration,
    ) -> Duration {
        let backoff = self.backoff(failures, jitter);
        retry_after.map_or(backoff, |secs| backoff.max(self.clamp_retry_after(secs)))
    }
}

/// The send times of the last [`POLLING_LIMIT`] requests, to enforce the sliding window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SendWindow {
    times: [Option<Duration>; POLLING_LIMIT],
    next: usize,
}

impl SendWindow {
    /// Earliest time the next request may go out: the oldest of the last
    /// [`POLLING_LIMIT`] sends plus [`POLLING_WINDOW`], so any 10 s window holds at most 5.
    pub(crate) fn gate(&self) -> Duration {
        // `next` points at the oldest entry once the ring is full.
        self.times[self.next].map_or(Duration::ZERO, |oldest| {
            oldest.saturating_add(POLLING_WINDOW)
        })
    }

    pub(crate) fn record(&mut self, at: Duration) {
        self.times[self.next] = Some(at);
        self.next = (self.next + 1) % POLLING_LIMIT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn retry_after_is_clamped_to_iot_sdk_c_range() {
        let c = ClientConfig::default();
        assert_eq!(c.clamp_retry_after(0), S(1));
        assert_eq!(c.clamp_retry_after(3), S(3));
        assert_eq!(c.clamp_retry_after(300), S(300));
        assert_eq!(c.clamp_retry_after(u32::MAX), S(300));
        assert_eq!(
            c.poll_interval(None, Duration::from_millis(250)),
            Duration::from_millis(2250)
        );
        assert_eq!(c.poll_interval(Some(120), S(9)), S(120));
    }

    #[test]
    fn backoff_doubles_from_five_seconds_and_caps() {
        let c = ClientConfig::default();
        assert_eq!(c.backoff(1, Duration::ZERO), S(5));
        assert_eq!(c.backoff(2, Duration::ZERO), S(10));
        assert_eq!(c.backoff(3, Duration::ZERO), S(20));
        assert_eq!(c.backoff(5, Duration::ZERO), S(60));
        assert_eq!(c.backoff(u32::MAX, S(1)), S(61));
        assert_eq!(c.throttled_wait(Some(7), 3, S(1)), S(7));
        assert_eq!(c.throttled_wait(None, 1, S(1)), S(6));
        assert_eq!(c.server_error_wait(Some(2), 1, Duration::ZERO), S(5));
        assert_eq!(c.server_error_wait(Some(30), 1, Duration::ZERO), S(30));
    }

    #[test]
    fn send_window_allows_five_per_ten_seconds() {
        let mut w = SendWindow::default();
        for i in 0..5 {
            assert_eq!(w.gate(), Duration::ZERO);
            w.record(S(i));
        }
        assert_eq!(w.gate(), S(10));
        w.record(S(10));
        assert_eq!(w.gate(), S(11));
    }
}
