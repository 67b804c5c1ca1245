//! Phase timestamps on standard error when `CCY_TRACE=1`, to see where a
//! command's time goes (`tests/bench`, BENCHMARKS.md). Off by default, and
//! then one environment lookup per process.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

fn start() -> Option<Instant> {
    *START.get_or_init(|| {
        std::env::var_os("CCY_TRACE")
            .is_some_and(|v| v == "1")
            .then(Instant::now)
    })
}

/// Starts the clock (when tracing is on); `main` calls it first, so marks
/// are milliseconds since ccy started.
pub fn init() {
    start();
}

/// Prints `ccy: trace: MS  WHAT` (milliseconds since [`init`]) on standard
/// error when `CCY_TRACE=1`; nothing otherwise.
pub fn mark(what: &str) {
    if let Some(t0) = start() {
        crate::errln!(
            "ccy: trace: {:9.3} ms  {what}",
            t0.elapsed().as_secs_f64() * 1000.0
        );
    }
}
