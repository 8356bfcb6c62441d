//! [`Filter`]: mitmproxy's filter expressions, compiled and matched by the
//! host, and [`FilterError`].

use std::fmt;

use crate::Flow;
use crate::boundary::filter::FilterHandle;

/// A compiled filter expression in mitmproxy's language: `~d example.com
/// & ~s`, `!~t image`, `~b "password"` and the rest (the README has the
/// table of terms). It selects the same flows as mitmproxy's `flowfilter`.
///
/// The host compiles and matches it, so the SDK stays free of a regex
/// engine; compile once (in `start`, or in the script's constructor) and
/// match in hooks. A filter may be kept in the script and shared between
/// threads.
///
/// ```
/// use waylay_sdk::{Context, Filter, Flow, Script};
///
/// #[derive(Default)]
/// struct MarkSlowApi {
///     api: Option<Filter>,
/// }
///
/// impl Script for MarkSlowApi {
///     fn start(&mut self, ctx: &Context, argv: &[&str]) {
///         let expression = argv.first().copied().unwrap_or("~d api\\. & ~s");
///         match Filter::parse(expression) {
///             Ok(filter) => self.api = Some(filter),
///             Err(e) => ctx.error(&e.to_string()),
///         }
///     }
///
///     fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
///         if self.api.as_ref().is_some_and(|f| f.matches(flow)) {
///             flow.set_marked(":turtle:");
///         }
///     }
/// }
///
/// waylay_sdk::export_script!(MarkSlowApi);
/// ```
#[derive(Debug)]
pub struct Filter {
    handle: FilterHandle,
    expression: String,
}

impl Filter {
    /// Compiles `expression`. A malformed one is an `Err` whose message is
    /// one line naming the expression, the position and what to do.
    ///
    /// Filters are compiled by the host: this works in a script the
    /// runner (or `waylay_proxy::testing`) loaded, from its constructor
    /// on; elsewhere (a plain unit test of the script type) it is an
    /// `Err` that says so.
    ///
    /// ```
    /// use waylay_sdk::{Context, Filter};
    ///
    /// fn compile(ctx: &Context, expression: &str) -> Option<Filter> {
    ///     Filter::parse(expression)
    ///         .map_err(|e| ctx.error(&format!("{e} (at {:?})", e.position())))
    ///         .ok()
    /// }
    /// ```
    pub fn parse(expression: &str) -> Result<Filter, FilterError> {
        match FilterHandle::compile(expression) {
            Ok(handle) => Ok(Filter {
                handle,
                expression: expression.to_owned(),
            }),
            Err((message, position)) => Err(FilterError { message, position }),
        }
    }

    /// Whether `flow` matches, as it is now (changes earlier hooks made
    /// included).
    ///
    /// ```
    /// use waylay_sdk::{Filter, Flow};
    ///
    /// fn strip_cookies(images: &Filter, flow: &mut Flow) {
    ///     if images.matches(flow) {
    ///         flow.request_mut().headers_mut().remove("cookie");
    ///     }
    /// }
    /// ```
    pub fn matches(&self, flow: &Flow) -> bool {
        self.handle.matches(flow.handle())
    }

    /// The expression as given.
    ///
    /// ```
    /// # fn f(filter: &waylay_sdk::Filter) {
    /// println!("selecting {}", filter.expression());
    /// # }
    /// ```
    pub fn expression(&self) -> &str {
        &self.expression
    }
}

impl Clone for Filter {
    /// Compiles the expression again (it compiled once, so it does).
    fn clone(&self) -> Filter {
        Filter::parse(&self.expression).expect("an expression that compiled once compiles again")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

/// Why an expression did not compile.
///
/// ```
/// # fn f(e: waylay_sdk::FilterError) {
/// // filter "~d example.com & (~s": expected ")" at position 20 (the end) ...
/// eprintln!("{e}");
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    message: String,
    position: Option<usize>,
}

impl FilterError {
    /// The whole one-line message.
    ///
    /// ```
    /// # fn f(e: &waylay_sdk::FilterError) {
    /// assert!(!e.message().contains('\n'));
    /// # }
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where in the expression it failed, in characters from 0 (the
    /// expression's length: at its end); `None` when there was no host to
    /// compile it.
    ///
    /// ```
    /// # fn f(e: &waylay_sdk::FilterError, expression: &str) {
    /// if let Some(at) = e.position() {
    ///     eprintln!("{expression}\n{}^", " ".repeat(at));
    /// }
    /// # }
    /// ```
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}
