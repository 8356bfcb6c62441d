//! Which hosts are blocked, without a proxy.

use http_connect::is_blocked;

#[test]
fn listed_hosts_and_their_subdomains_are_blocked() {
    let list = "ads.example, Tracker.example";
    assert!(is_blocked(list, "ads.example"));
    assert!(is_blocked(list, "cdn.ads.example"));
    assert!(is_blocked(list, "tracker.example."));
    assert!(!is_blocked(list, "badads.example"));
    assert!(!is_blocked(list, "example"));
    assert!(!is_blocked("", "ads.example"));
}
