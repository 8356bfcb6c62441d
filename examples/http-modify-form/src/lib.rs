//! mitmproxy's `http-modify-form.py`: a urlencoded form gets
//! `mitmproxy=rocks`; a request without one gets the form `foo=bar`.

use waylay_sdk::{Context, Flow, Pairs, Script};

#[derive(Default)]
pub struct ModifyForm;

impl Script for ModifyForm {
    fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
        let request = flow.request_mut();
        if !request.urlencoded_form().is_empty() {
            // There is a form already: add to it.
            request.urlencoded_form_mut().insert("mitmproxy", "rocks");
        } else {
            // A new form: the body and the Content-Type are replaced.
            request.set_urlencoded_form(&Pairs::from_iter([("foo", "bar")]));
        }
    }
}

waylay_sdk::export_script!(ModifyForm);
