//! mitmproxy's `filter-flows.py`: uses mitmproxy's filter expressions in a
//! script. It declares an option, `flowfilter`, compiles a filter, and
//! logs every response whose flow matches it.
//!
//! ```sh
//! runner -s examples/filter-flows --set flowfilter='~d example.com & ~s'
//! ```
//!
//! Differences: the original declares `flowfilter` but compiles `"."`
//! whatever it is set to (a bare expression matches the URL, so every
//! flow); here `"."` is the default, used while the option is empty, and
//! a value set is the filter. The SDK has no `configure` event (a run's
//! options are fixed at start-up), so the filter is compiled in `start`;
//! a malformed one is logged as an error and matches nothing, where
//! mitmproxy refuses it. mitmproxy logs the flow's Python `repr`; this
//! logs the request line and the response status.

use waylay_sdk::{Context, Filter, Flow, OptionKind, Script, ScriptOption};

/// Logs the responses a filter matches.
#[derive(Default)]
pub struct FilterFlows {
    filter: Option<Filter>,
}

impl Script for FilterFlows {
    fn options() -> &'static [ScriptOption] {
        &[ScriptOption {
            name: "flowfilter",
            kind: OptionKind::Str,
            default: "",
            help: "Check that flow matches filter.",
        }]
    }

    // mitmproxy's `configure`: the options are final when `start` runs.
    fn start(&mut self, ctx: &Context, _argv: &[&str]) {
        let expression = ctx
            .option("flowfilter")
            .filter(|e| !e.is_empty())
            .unwrap_or(".");
        self.filter = Filter::parse(expression)
            .map_err(|e| ctx.error(&e.to_string()))
            .ok();
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        if self.filter.as_ref().is_some_and(|f| f.matches(flow)) {
            ctx.info("Flow matches filter:");
            let request = flow.request();
            let status = flow
                .response()
                .map(|r| format!("{} {}", r.status_code(), r.reason()))
                .unwrap_or_default();
            ctx.info(&format!(
                "{} {} -> {status}",
                request.method(),
                request.url()
            ));
        }
    }
}

waylay_sdk::export_script!(FilterFlows);
