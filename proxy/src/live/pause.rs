//! Intercept: a flow that the view's intercept filter matches waits after
//! its `request` (and again after its `response`) hooks until the page
//! resumes or kills it. Only its own connection waits.

use tokio::sync::oneshot;

use crate::flow::Flow;
use crate::script::Event;

/// How a paused flow goes on.
#[derive(Debug)]
pub enum Resume {
    /// On, as the page left it (`None`: unchanged).
    Go(Option<Flow>),
    /// Killed, as a script's `kill()` would.
    Kill,
}

/// Decides which flows pause, and hands them to whoever resumes them.
pub trait Pause: Send + Sync {
    /// Called after the scripts' `request` and `response` hooks (never on
    /// a streamed message, which has left already). Returns where the
    /// decision will come from when `flow` is to wait.
    fn pause(&self, event: Event, flow: &Flow) -> Option<oneshot::Receiver<Resume>>;
}

/// Waits for the page; a dropped sender (the view gone) resumes the flow
/// unchanged, so that no flow waits forever. True when it was killed.
pub(crate) async fn wait(flow: &mut Flow, decided: oneshot::Receiver<Resume>) -> bool {
    flow.dict_mut()
        .insert("intercepted", crate::tnetstring::Value::Bool(true));
    let decision = decided.await.unwrap_or(Resume::Go(None));
    flow.dict_mut()
        .insert("intercepted", crate::tnetstring::Value::Bool(false));
    match decision {
        Resume::Go(None) => false,
        Resume::Go(Some(edited)) => {
            let streaming = [
                flow.streaming(crate::http::Which::Request),
                flow.streaming(crate::http::Which::Response),
            ];
            *flow = edited;
            flow.dict_mut()
                .insert("intercepted", crate::tnetstring::Value::Bool(false));
            flow.set_streaming(crate::http::Which::Request, streaming[0]);
            flow.set_streaming(crate::http::Which::Response, streaming[1]);
            false
        }
        Resume::Kill => {
            // As mitmproxy's `Flow.kill()`.
            flow.set_error("Connection killed.", super::record::now());
            true
        }
    }
}
