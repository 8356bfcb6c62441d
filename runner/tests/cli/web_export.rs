//! The view's actions over the API: export as curl, HTTPie and raw HTTP
//! against mitmproxy 11's export addon on the same flows; duplicate,
//! edit, mark, revert, delete; replay, live and with -n.

use std::process::Command;

use serde_json::{Value, json};

use crate::interop::peer;
use crate::origin::Origin;
use crate::support::{Proxy, curl, golden, root};
use crate::web::View;

#[test]
fn exports_match_mitmproxy() {
    let Some(python) = peer() else { return };
    for file in ["all.mitm", "filters.mitm", "gallery.mitm", "accessors.mitm"] {
        let path = golden(file);
        let out = Command::new(&python)
            .arg(root().join("runner/tests/interop/export.py"))
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let view = View::offline(&["-r", path.to_str().unwrap(), "-q"]);
        view.wait_for_flows(want.len() as u64);
        for (n, want) in want.iter().enumerate() {
            for format in ["curl", "httpie", "raw"] {
                let (status, _, body) = view.get(&format!("/api/flows/{n}/export/{format}"));
                let got = if status == 200 {
                    json!(body)
                } else {
                    let err: Value = serde_json::from_str(&body).unwrap();
                    json!({"error": err["error"]})
                };
                let want = match &want[format] {
                    // Bytes mitmproxy decoded as Latin-1, read as the view
                    // sends them.
                    Value::String(s) if format == "raw" => {
                        let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
                        json!(String::from_utf8_lossy(&bytes))
                    }
                    other => other.clone(),
                };
                assert_eq!(got, want, "{file} flow {n}, {format}");
            }
        }
    }
}

#[test]
fn duplicate_edit_mark_revert_and_delete() {
    let view = View::offline(&["-r", golden("all.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(5);
    let (status, body) = view.post("/api/flows/1/duplicate", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"n":5}"#);
    let copy = view.json("/api/flows/5");
    let original = view.json("/api/flows/1");
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(copy["request"], original["request"]);
    // An edit, then a mark: the row shows both, revert undoes both.
    let edit = json!({"request": {"method": "PUT", "url": "http://example.com:8080/changed?q=1",
        "headers": [["Host", "example.com:8080"], ["X-Edited", "yes"]], "text": "new body"}});
    let (status, body) = view.post("/api/flows/1/edit", Some(edit));
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        view.post("/api/flows/1/edit", Some(json!({"marked": ":red:"})))
            .0,
        204
    );
    let edited = view.json("/api/flows/1");
    assert_eq!(edited["request"]["method"], "PUT");
    assert_eq!(
        edited["request"]["url"],
        "http://example.com:8080/changed?q=1"
    );
    assert_eq!(
        edited["request"]["headers"][2],
        json!(["content-length", "8"])
    );
    assert_eq!(edited["marked"], ":red:");
    let (_, _, body) = view.get("/api/flows/1/request/body");
    assert_eq!(body, "new body");
    let rows = view.json("/api/flows?filter=~marked");
    assert_eq!(rows["matched"], 1);
    assert_eq!(rows["rows"][0]["method"], "PUT");
    // Bad edits change nothing and say why.
    let (status, body) = view.post(
        "/api/flows/1/edit",
        Some(json!({"request": {"method": "BAD METHOD"}})),
    );
    assert_eq!(status, 400);
    assert!(body.contains("is not a method"), "{body}");
    let (status, body) = view.post(
        "/api/flows/3/edit",
        Some(json!({"response": {"status_code": 200}})),
    );
    // The edit is well formed; the flow lacks what it changes: 409, as
    // exporting a missing response is.
    assert_eq!(status, 409);
    assert!(body.contains("this flow has no response"), "{body}");
    assert_eq!(view.post("/api/flows/1/revert", None).0, 204);
    let back = view.json("/api/flows/1");
    assert_eq!(back["request"], original["request"]);
    assert_eq!(back["marked"], "");
    let (status, body) = view.post("/api/flows/1/revert", None);
    assert_eq!(status, 409, "{body}");
    // Deleted: gone from the list and from saves.
    assert_eq!(view.post("/api/flows/0/delete", None).0, 204);
    let w = view.json("/api/flows");
    assert_eq!(
        (w["total"].as_u64(), w["matched"].as_u64()),
        (Some(5), Some(5))
    );
    assert!(w["rows"].as_array().unwrap().iter().all(|r| r["n"] != 0));
    let (status, _, saved) = view.get("/api/save?format=mitm&filter=~m%20GET");
    assert_eq!(status, 200);
    let dir = crate::support::scratch();
    let file = dir.path().join("saved.mitm");
    std::fs::write(&file, saved.as_bytes()).unwrap();
    assert_eq!(crate::support::flows(&file).len(), 3);
    let (status, _, har) = view.get("/api/save?format=har");
    assert_eq!(status, 200);
    let har: Value = serde_json::from_str(&har).unwrap();
    assert_eq!(har["log"]["entries"].as_array().unwrap().len(), 5);
}

#[test]
fn replay_adds_a_flow_live_and_offline() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    curl(&proxy, &["-H", "X-Try: 1", &origin.url("/headers")]);
    view.wait_for_flows(1);
    // Edited first: the replay carries the edit to the origin.
    let edit = json!({"request": {"headers": [["Host", origin.addr.to_string()], ["X-Try", "2"]]}});
    assert_eq!(view.post("/api/flows/0/edit", Some(edit)).0, 204);
    let (status, body) = view.post("/api/flows/0/replay", None);
    assert_eq!(status, 202, "{body}");
    let w = view.wait_for_flows(2);
    assert_eq!(w["rows"][1]["replay"], true);
    let (_, _, echoed) = view.get("/api/flows/1/response/body");
    assert!(echoed.contains("X-Try: 2"), "{echoed}");
    drop(proxy);
    // With -n, the view's replays start a replayer of their own.
    let dir = crate::support::scratch();
    let file = dir.path().join("one.mitm");
    let proxy = Proxy::start(&["-w", file.to_str().unwrap()]);
    curl(&proxy, &[&origin.url("/hello")]);
    proxy.stop();
    let view = View::offline(&["-r", file.to_str().unwrap(), "-q"]);
    view.wait_for_flows(1);
    assert_eq!(view.post("/api/flows/0/replay", None).0, 202);
    let w = view.wait_for_flows(2);
    assert_eq!(w["rows"][1]["status"], 200);
    // A TCP flow can't be replayed, and says so.
    let view = View::offline(&["-r", golden("tcp.mitm").to_str().unwrap(), "-q"]);
    view.wait_for_flows(1);
    let (status, body) = view.post("/api/flows/0/replay", None);
    assert_eq!(status, 409);
    assert!(body.contains("can only replay HTTP flows"), "{body}");
}
