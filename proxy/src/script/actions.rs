//! What a hook's `Context` can ask of the run besides changing its flow:
//! copies (`Context::duplicate`) and replays (`Context::replay`). The
//! script layer only collects them; whoever runs the flows (the runner's
//! live proxy or offline loop, through `live::replay`) takes them here.

use crate::flow::Flow;

/// Takes the copies and replays scripts make. Called on the thread that ran
/// the hook, while it still holds the flow: it must not block.
pub trait Actions: Send + Sync {
    /// Whether copies and replays can be taken now; the error is said to
    /// the script that asks (offline, where the replayer starts on first
    /// use, this starts it).
    fn ready(&self) -> Result<(), String> {
        Ok(())
    }
    /// A copy of a flow, as the hook that made it left it; `maker` is the
    /// index (in command-line order) of the script that made it, which
    /// does not see it again.
    fn duplicate(&self, maker: usize, flow: Flow);
    /// A flow to send again: a copy with its own id, already marked
    /// `is_replay: "request"` and without response or error.
    fn replay(&self, flow: Flow);
}
