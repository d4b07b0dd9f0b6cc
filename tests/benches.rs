//! The criterion benches are built here in the normal test run (`cargo test` skips bench
//! targets, and criterion's own test mode refuses libtest's `--test-threads`), and the hot
//! path's cases run once each with what they must give.

#[allow(dead_code)]
#[path = "../benches/bot_matching.rs"]
mod bot_matching;

#[allow(dead_code)]
#[path = "../benches/hot_path.rs"]
mod hot_path;

#[test]
fn hot_path_cases_give_what_they_bench() {
    hot_path::check();
}
