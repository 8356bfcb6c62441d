//! The request's views the host computes with mitmproxy's semantics: the
//! query, path components, cookies and forms ([`Pairs`], [`PairsMut`]),
//! and `anticache`, `anticomp`, `constrain_encoding`.

use super::Request;
use crate::abi;
use crate::pairs::items;
use crate::{Error, Pairs, PairsMut};

impl Request {
    fn pairs(&self, view: u32) -> Pairs {
        self.message
            .view(view)
            .ok()
            .flatten()
            .map(Pairs::decode)
            .unwrap_or_default()
    }

    /// The query string's pairs, `+` and `%xx` decoded, order and
    /// duplicates kept (mitmproxy's `request.query`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let ids = flow.request().query().get_all("id").len();
    /// # }
    /// ```
    pub fn query(&self) -> Pairs {
        self.pairs(abi::VIEW_QUERY)
    }

    /// Replaces the query string with `pairs`, encoded as mitmproxy does;
    /// the path and fragment stay.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// let pairs = waylay_sdk::Pairs::from_iter([("q", "waylay proxy")]);
    /// flow.request_mut().set_query(&pairs); // ?q=waylay+proxy
    /// # }
    /// ```
    pub fn set_query(&mut self, pairs: &Pairs) {
        let _ = self.message.set_view(abi::VIEW_QUERY, &pairs.encode());
    }

    /// The query, changed in place (mitmproxy's
    /// `request.query["x"] = ...`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// // mitmproxy's http-modify-query-string example:
    /// flow.request_mut().query_mut().insert("mitmproxy", "rocks");
    /// # }
    /// ```
    pub fn query_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(&mut self.message.handle, abi::MSG_REQUEST, abi::VIEW_QUERY)
    }

    /// The path's segments, `%xx` decoded, empty ones left out (mitmproxy's
    /// `request.path_components`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let first = flow.request().path_components().first().cloned();
    /// # }
    /// ```
    pub fn path_components(&self) -> Vec<String> {
        let bytes = self
            .message
            .view(abi::VIEW_PATH_COMPONENTS)
            .ok()
            .flatten()
            .unwrap_or_default();
        items(&bytes)
            .into_iter()
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .collect()
    }

    /// Sets the path from segments, each quoted (`/` too); the query stays.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_path_components(["api", "v2", "items"]);
    /// # }
    /// ```
    pub fn set_path_components<S: AsRef<str>>(&mut self, components: impl IntoIterator<Item = S>) {
        let mut encoded = Vec::new();
        for c in components {
            let c = c.as_ref().as_bytes();
            encoded.extend_from_slice(&(c.len() as u32).to_le_bytes());
            encoded.extend_from_slice(c);
        }
        let _ = self.message.set_view(abi::VIEW_PATH_COMPONENTS, &encoded);
    }

    /// The cookies the request sends: every `Cookie` field's pairs, in
    /// order (mitmproxy's `request.cookies`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let session = flow.request().cookies().get("session").map(|s| s.into_owned());
    /// # }
    /// ```
    pub fn cookies(&self) -> Pairs {
        self.pairs(abi::VIEW_COOKIES)
    }

    /// Replaces the `Cookie` field with `pairs`. `Err` for a name or value
    /// that is not UTF-8.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// flow.request_mut().set_cookies(&waylay_sdk::Pairs::from_iter([("theme", "dark")]))
    /// # }
    /// ```
    pub fn set_cookies(&mut self, pairs: &Pairs) -> Result<(), Error> {
        self.message.set_view(abi::VIEW_COOKIES, &pairs.encode())
    }

    /// The cookies, changed in place.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().cookies_mut().remove("tracking");
    /// # }
    /// ```
    pub fn cookies_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(
            &mut self.message.handle,
            abi::MSG_REQUEST,
            abi::VIEW_COOKIES,
        )
    }

    /// The body's `application/x-www-form-urlencoded` pairs (none for
    /// another Content-Type), as mitmproxy's `request.urlencoded_form`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let user = flow.request().urlencoded_form().get("user").map(|u| u.into_owned());
    /// # }
    /// ```
    pub fn urlencoded_form(&self) -> Pairs {
        self.pairs(abi::VIEW_URLENCODED_FORM)
    }

    /// Replaces the body with `pairs`, urlencoded, and sets the
    /// Content-Type, as mitmproxy's setter does.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_urlencoded_form(&waylay_sdk::Pairs::from_iter([("a", "1")]));
    /// # }
    /// ```
    pub fn set_urlencoded_form(&mut self, pairs: &Pairs) {
        let _ = self
            .message
            .set_view(abi::VIEW_URLENCODED_FORM, &pairs.encode());
    }

    /// The urlencoded form, changed in place.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// // mitmproxy's http-modify-form example:
    /// flow.request_mut().urlencoded_form_mut().insert("mitmproxy", "rocks");
    /// # }
    /// ```
    pub fn urlencoded_form_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(
            &mut self.message.handle,
            abi::MSG_REQUEST,
            abi::VIEW_URLENCODED_FORM,
        )
    }

    /// The body's `multipart/form-data` parts as name/content pairs (none
    /// for another Content-Type), as mitmproxy's `request.multipart_form`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let upload = flow.request().multipart_form().get_bytes(b"file").map(<[u8]>::len);
    /// # }
    /// ```
    pub fn multipart_form(&self) -> Pairs {
        self.pairs(abi::VIEW_MULTIPART_FORM)
    }

    /// Replaces the body with `pairs` as `multipart/form-data` (the
    /// Content-Type's boundary kept, or a new one), as mitmproxy's setter
    /// does. `Err` when a part holds the boundary.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// let parts = waylay_sdk::Pairs::from_iter([("field", "value")]);
    /// flow.request_mut().set_multipart_form(&parts)
    /// # }
    /// ```
    pub fn set_multipart_form(&mut self, pairs: &Pairs) -> Result<(), Error> {
        self.message
            .set_view(abi::VIEW_MULTIPART_FORM, &pairs.encode())
    }

    /// The multipart form, changed in place.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().multipart_form_mut().remove("debug");
    /// # }
    /// ```
    pub fn multipart_form_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(
            &mut self.message.handle,
            abi::MSG_REQUEST,
            abi::VIEW_MULTIPART_FORM,
        )
    }

    /// Removes `If-Modified-Since` and `If-None-Match`, so the server
    /// answers in full (mitmproxy's `request.anticache()`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().anticache();
    /// # }
    /// ```
    pub fn anticache(&mut self) {
        self.message.op(abi::OP_ANTICACHE);
    }

    /// Asks for an uncompressed response: `Accept-Encoding: identity`
    /// (mitmproxy's `request.anticomp()`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().anticomp();
    /// # }
    /// ```
    pub fn anticomp(&mut self) {
        self.message.op(abi::OP_ANTICOMP);
    }

    /// Keeps only the encodings Waylay can undo in `Accept-Encoding`
    /// (mitmproxy's `request.constrain_encoding()`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().constrain_encoding();
    /// # }
    /// ```
    pub fn constrain_encoding(&mut self) {
        self.message.op(abi::OP_CONSTRAIN_ENCODING);
    }
}
