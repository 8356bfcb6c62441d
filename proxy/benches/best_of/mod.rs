//! The timer the micro-benchmarks share: a warm-up of a tenth of the
//! calls, then the best of 5 runs, printed as `LABEL: N ns/UNIT (best of
//! 5 x ITERATIONS)` (the line `cargo xtask bench` reads).

use std::time::Instant;

/// Times `iterations` calls of `f`, best of 5, in ns per call; prints
/// the line with `unit` (`event`, `flow`).
pub fn time(label: &str, unit: &str, iterations: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..iterations {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(iterations));
    }
    println!("{label}: {best:.1} ns/{unit} (best of 5 x {iterations})");
    best
}
