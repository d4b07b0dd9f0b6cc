//! Durations kept as log-spaced bucket counts, so that a day's first-response times (or a
//! year's) add up to one small value whose median and p90 can still be read: a report over
//! a year sums a few thousand of these instead of sorting millions of rows. A bucket is 5%
//! wide, so a percentile read from them is within 2.5% of the exact one (docs/analytics.md).

use std::collections::BTreeMap;

/// Each bucket's upper bound is this factor times its lower bound.
const GROWTH: f64 = 1.05;
/// Durations under one second share bucket 0.
const FLOOR_MS: f64 = 1000.0;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Bucket → count; only buckets that hold something.
    counts: BTreeMap<u16, u64>,
}

/// The bucket of a duration in milliseconds.
pub fn bucket(ms: i64) -> u16 {
    let ms = ms.max(0) as f64;
    if ms < FLOOR_MS {
        return 0;
    }
    let b = ((ms / FLOOR_MS).ln() / GROWTH.ln()).floor() as i64 + 1;
    b.clamp(1, u16::MAX as i64) as u16
}

/// The value a bucket stands for: the geometric middle of its bounds (bucket 0: half a
/// second).
fn representative_ms(bucket: u16) -> f64 {
    if bucket == 0 {
        return FLOOR_MS / 2.0;
    }
    FLOOR_MS * GROWTH.powf(bucket as f64 - 1.0) * GROWTH.sqrt()
}

impl Histogram {
    pub fn add(&mut self, ms: i64) {
        *self.counts.entry(bucket(ms)).or_insert(0) += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (b, n) in &other.counts {
            *self.counts.entry(*b).or_insert(0) += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The `q` quantile (0–1) in seconds, rounded to a tenth; `None` when empty. The rank
    /// is the nearest-rank one: the smallest value with at least `q` of the samples at or
    /// below it.
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, n) in &self.counts {
            seen += n;
            if seen >= rank {
                return Some((representative_ms(*b) / 100.0).round() / 10.0);
            }
        }
        None
    }

    /// The stored form: `bucket:count` pairs joined by `,`, in bucket order.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(self.counts.len() * 8);
        for (i, (b, n)) in self.counts.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&b.to_string());
            s.push(':');
            s.push_str(&n.to_string());
        }
        s
    }

    /// Reads what `encode` wrote; pairs that do not parse are dropped (the column is ours,
    /// so there are none).
    pub fn decode(s: &str) -> Histogram {
        let counts = s
            .split(',')
            .filter_map(|pair| {
                let (b, n) = pair.split_once(':')?;
                Some((b.parse().ok()?, n.parse().ok()?))
            })
            .collect();
        Histogram { counts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_grow_by_five_percent() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(999), 0);
        assert_eq!(bucket(1000), 1);
        assert_eq!(bucket(1049), 1);
        assert_eq!(bucket(1050), 2);
        assert!(
            bucket(86_400_000 * 365) < 400,
            "a year fits in a few hundred buckets"
        );
    }

    #[test]
    fn quantiles_are_within_the_bucket_width() {
        let mut h = Histogram::default();
        for s in 1..=100 {
            h.add(s * 1000);
        }
        let median = h.quantile_s(0.5).expect("median");
        assert!((median - 50.0).abs() <= 50.0 * 0.05, "{median}");
        let p90 = h.quantile_s(0.9).expect("p90");
        assert!((p90 - 90.0).abs() <= 90.0 * 0.05, "{p90}");
        assert_eq!(Histogram::default().quantile_s(0.5), None);
    }

    #[test]
    fn encoding_round_trips_and_merging_adds() {
        let mut a = Histogram::default();
        a.add(500);
        a.add(60_000);
        let mut b = Histogram::decode(&a.encode());
        assert_eq!(a, b);
        b.merge(&a);
        assert_eq!(b.count(), 4);
        assert_eq!(Histogram::decode(""), Histogram::default());
    }
}
