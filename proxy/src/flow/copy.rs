//! New flows made from old ones: a fresh id, a copy (mitmproxy's
//! `Flow.copy`, the seed's `duplicate_flow`), and a flow made ready to be
//! sent again (mitmproxy's client replay, the seed's `replay_request`).

use super::{Flow, FlowKind};
use crate::tnetstring::Value;

/// A fresh flow or connection id: a random (version 4) UUID. The bits come
/// from a per-thread generator seeded from the OS once, so an id costs no
/// system call.
pub fn new_id() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    // splitmix64
    let next = || {
        STATE.with(|s| {
            let z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            s.set(z);
            let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
    };
    let bits = (u128::from(next()) << 64) | u128::from(next());
    uuid::Builder::from_random_bytes(bits.to_be_bytes())
        .into_uuid()
        .to_string()
}

impl Flow {
    /// A copy with a new id and nothing else changed, as mitmproxy's
    /// `Flow.copy` makes it (the connections keep theirs).
    pub fn duplicate(&self) -> Flow {
        let mut copy = self.clone();
        copy.dict_mut().insert("id", Value::text(&new_id()));
        copy
    }

    /// Why this flow cannot be sent again, in mitmproxy's words
    /// (`ClientPlayback.check`), or `None` when it can.
    pub fn replay_problem(&self) -> Option<&'static str> {
        if self.kind() != FlowKind::Http {
            return Some("can only replay HTTP flows");
        }
        let Some(request) = self.request() else {
            return Some("can't replay a flow with no request");
        };
        if matches!(request.get("content"), None | Some(Value::Null)) {
            return Some("can't replay a flow whose request body was not kept (it was streamed)");
        }
        if self.dict().get("websocket").is_some_and(|w| !w.is_null()) {
            return Some("can't replay WebSocket flows");
        }
        None
    }

    /// Made ready to be sent again, as mitmproxy's client replay does:
    /// marked `is_replay: "request"`, its response and error gone. The id
    /// stays (a copy is [`duplicate`](Flow::duplicate)d first where a new
    /// flow is wanted).
    pub fn prepare_replay(&mut self) {
        let d = self.dict_mut();
        d.insert("is_replay", Value::text("request"));
        d.insert("response", Value::Null);
        d.insert("error", Value::Null);
        self.set_streaming(crate::http::Which::Request, false);
        self.set_streaming(crate::http::Which::Response, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden(name: &str) -> Vec<Flow> {
        let path = format!("{}/../testdata/flows/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut reader = crate::flowfile::FlowReader::new(std::fs::File::open(path).unwrap());
        std::iter::from_fn(|| reader.read_flow())
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_duplicate_differs_only_in_its_id() {
        let flow = golden("get.mitm").remove(0);
        let copy = flow.duplicate();
        assert_ne!(copy.id(), flow.id());
        assert_eq!(
            uuid::Uuid::parse_str(copy.id()).unwrap().get_version_num(),
            4
        );
        let mut back = copy.clone();
        back.dict_mut().insert("id", Value::text(flow.id()));
        assert_eq!(back, flow);
    }

    #[test]
    fn a_replay_is_marked_and_has_no_answer() {
        let mut flow = golden("refused.mitm").remove(0);
        assert_eq!(flow.replay_problem(), None);
        flow.prepare_replay();
        assert_eq!(flow.text("is_replay"), Some("request"));
        assert!(flow.response().is_none());
        assert!(flow.error_msg().is_none());
    }

    #[test]
    fn what_cannot_be_replayed_says_why() {
        let tcp = golden("tcp.mitm").remove(0);
        assert_eq!(tcp.replay_problem(), Some("can only replay HTTP flows"));
        let ws = golden("websocket.mitm").remove(0);
        assert_eq!(ws.replay_problem(), Some("can't replay WebSocket flows"));
        let mut streamed = golden("post.mitm").remove(0);
        streamed
            .message_mut(crate::http::Which::Request)
            .unwrap()
            .insert("content", Value::Null);
        assert!(streamed.replay_problem().unwrap().contains("streamed"));
    }
}
