//! mitmproxy's `options-configure.py`: declares an optional whole-number
//! option, `addheader`, checks it (at most 100), and while it is set every
//! response gets an `addheader` header with its value.
//!
//! ```sh
//! runner -s examples/options-configure --set addheader=42
//! ```
//!
//! Differences: an `OptionsError` raised in `configure` stops mitmproxy;
//! the SDK has no way for a script to refuse an option value, so a value
//! over 100 is logged as an error and the option is treated as unset. The option's
//! "unset" (Python's `None`) is the empty default: `--set` takes whole
//! numbers only, so it cannot be unset again once set, as it can in
//! mitmproxy.

use waylay_sdk::{Context, Flow, OptionKind, Script, ScriptOption};

/// Adds `addheader: VALUE` to every response while the option is set.
#[derive(Default)]
pub struct AddHeader {
    /// The checked value of `addheader`, when set.
    value: Option<i64>,
}

impl Script for AddHeader {
    fn options() -> &'static [ScriptOption] {
        &[ScriptOption {
            name: "addheader",
            kind: OptionKind::Int,
            default: "",
            help: "Add a header to responses",
        }]
    }

    fn configure(&mut self, ctx: &Context, updated: &[&str]) {
        if !updated.contains(&"addheader") {
            return;
        }
        self.value = match ctx.option_int("addheader") {
            Some(value) if value > 100 => {
                ctx.error("addheader must be <= 100");
                None
            }
            value => value,
        };
    }

    fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
        if let (Some(value), Some(response)) = (self.value, flow.response_mut()) {
            response.headers_mut().set("addheader", value.to_string());
        }
    }
}

waylay_sdk::export_script!(AddHeader);
