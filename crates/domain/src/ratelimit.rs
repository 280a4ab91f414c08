//! A per-client fixed-window limiter for login and other unauthenticated, costly routes.
//! Per replica by design: the brief allows rate limits to stay in one process.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;

/// At most `limit` hits per `window` per key (a client address, or a user for password
/// checks).
pub struct RateLimiter<K = IpAddr> {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter { limit, window, hits: Mutex::new(HashMap::new()) }
    }

    /// Records a hit; `Err(retry_after)` when over the limit.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        let now = Instant::now();
        let mut hits = match self.hits.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Bound memory under a flood of addresses: forget expired windows.
        if hits.len() > 10_000 {
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = hits.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(self.window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }

    /// [`Self::check`], or Coder's 429.
    pub fn limit(&self, key: K) -> Result<(), Error> {
        self.check(key).map_err(|_| {
            Error::new(
                crate::error::Kind::TooManyRequests,
                format!(
                    "You've been rate limited for sending more than {} requests in {}.",
                    self.limit,
                    go_duration(self.window)
                ),
            )
        })
    }
}

/// A whole-second duration as Go prints it (`1m0s`, `1h30m0s`, `45s`), as Coder's text has it.
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn the_window_reads_as_go_prints_durations() {
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_secs(45)), "45s");
        assert_eq!(go_duration(Duration::from_secs(5400)), "1h30m0s");
        let limiter: RateLimiter = RateLimiter::new(0, Duration::from_secs(90));
        let refused = limiter.limit([127, 0, 0, 1].into()).unwrap_err();
        assert_eq!(
            refused.body.message,
            "You've been rate limited for sending more than 0 requests in 1m30s."
        );
    }

    #[test]
    fn limits_per_key() {
        let limiter: RateLimiter = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
        assert!(limiter.check(b).is_ok());
    }
}
