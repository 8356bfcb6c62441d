//! mitmproxy's `options-simple.py`: declares an option, `addheader`
//! (true or false, false by default); while it is true every response
//! gets a `count` header numbering the responses counted so far.
//!
//! ```sh
//! runner -s examples/options-simple --set addheader=true
//! ```

use waylay_sdk::{Context, Flow, OptionKind, Script, ScriptOption};

/// Numbers the responses in a `count` header when `addheader` is true.
#[derive(Default)]
pub struct AddHeader {
    num: u64,
}

impl Script for AddHeader {
    fn options() -> &'static [ScriptOption] {
        &[ScriptOption {
            name: "addheader",
            kind: OptionKind::Bool,
            default: "false",
            help: "Add a count header to responses",
        }]
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        if ctx.option_bool("addheader").unwrap_or(false) {
            self.num += 1;
            if let Some(response) = flow.response_mut() {
                response.headers_mut().set("count", self.num.to_string());
            }
        }
    }
}

waylay_sdk::export_script!(AddHeader);
