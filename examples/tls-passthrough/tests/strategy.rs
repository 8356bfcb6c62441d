//! The strategies, without a proxy: what the hooks decide from the history.

use tls_passthrough::{History, Interception, Strategy};

#[test]
fn conservative_passes_through_after_a_failure_only() {
    let mut history = History::default();
    let server = "example.com:443";
    assert!(history.should_intercept(Strategy::Conservative, server, 0));
    history.record(server, Interception::Success);
    assert!(history.should_intercept(Strategy::Conservative, server, 0));
    history.record(server, Interception::Failure);
    assert!(!history.should_intercept(Strategy::Conservative, server, 0));
    assert!(history.should_intercept(Strategy::Conservative, "other.example:443", 0));
}

#[test]
fn a_failure_is_forgotten_after_200_later_attempts() {
    let mut history = History::default();
    let server = "example.com:443";
    history.record(server, Interception::Failure);
    for _ in 0..199 {
        history.record(server, Interception::Skipped);
    }
    assert!(!history.should_intercept(Strategy::Conservative, server, 0));
    history.record(server, Interception::Skipped);
    assert!(history.should_intercept(Strategy::Conservative, server, 0));
}

#[test]
fn probabilistic_intercepts_rolls_under_the_percentage() {
    let history = History::default();
    let strategy = Strategy::Probabilistic(30);
    assert!(history.should_intercept(strategy, "a:1", 29));
    assert!(!history.should_intercept(strategy, "a:1", 30));
    assert!(history.should_intercept(Strategy::Probabilistic(100), "a:1", 99));
}
