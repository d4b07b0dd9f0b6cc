//! Analytics: the cycle model that turns conversations into response and resolution
//! figures, the rollups that keep them per day, and reading a report out of them.

pub mod cycle;
pub mod histogram;
pub mod report;

pub use cycle::{Cycle, DayKey, Fact, FactAt, HourTally, Metric, Projection, Response, Tally};
pub use histogram::Histogram;
