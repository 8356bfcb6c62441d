//! The one place where this crate touches the C boundary: the layout both
//! sides share ([`abi`], with its function-pointer types), wrappers over
//! the host's function table ([`host`], and [`filter`] for filters, which
//! outlive a hook call) and the exported trampolines ([`export`]). All of
//! the crate's `unsafe` lives below this module.

#[doc(hidden)]
pub mod abi;
pub(crate) mod filter;
pub(crate) mod host;

#[doc(hidden)]
pub mod export;

/// Exports a script type from a crate built as a `cdylib`.
///
/// The type must implement [`Script`](crate::Script) and [`Default`]; the
/// runner creates one instance per `-s` and calls its hooks. Use the macro
/// once, at the crate root.
///
/// ```
/// use waylay_sdk::{Context, Flow, Script};
///
/// #[derive(Default)]
/// struct AddHeader;
///
/// impl Script for AddHeader {
///     fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
///         if let Some(response) = flow.response_mut() {
///             response.headers_mut().set("newheader", "foo");
///         }
///     }
/// }
///
/// waylay_sdk::export_script!(AddHeader);
/// ```
///
/// Hooks can be made concurrent: implement them in [`Concurrent`](crate::Concurrent)
/// and name them in the macro. Those run with shared access, on the
/// proxy's worker threads, in parallel; the others still run one at a
/// time.
///
/// ```
/// use waylay_sdk::{Concurrent, Context, Flow, Script};
///
/// #[derive(Default)]
/// struct Slow;
///
/// impl Script for Slow {}
///
/// impl Concurrent for Slow {
///     fn request(&self, _ctx: &Context, _flow: &mut Flow) {
///         std::thread::sleep(std::time::Duration::from_millis(10));
///     }
/// }
///
/// waylay_sdk::export_script!(Slow, concurrent = [request]);
/// ```
#[macro_export]
macro_rules! export_script {
    (@bit request_headers) => { 1u64 << $crate::abi::EVENT_REQUEST_HEADERS };
    (@bit request) => { 1u64 << $crate::abi::EVENT_REQUEST };
    (@bit response_headers) => { 1u64 << $crate::abi::EVENT_RESPONSE_HEADERS };
    (@bit response) => { 1u64 << $crate::abi::EVENT_RESPONSE };
    (@bit error) => { 1u64 << $crate::abi::EVENT_ERROR };
    (@bit websocket_start) => { 1u64 << $crate::abi::EVENT_WEBSOCKET_START };
    (@bit websocket_message) => { 1u64 << $crate::abi::EVENT_WEBSOCKET_MESSAGE };
    (@bit websocket_end) => { 1u64 << $crate::abi::EVENT_WEBSOCKET_END };
    (@bit tcp_start) => { 1u64 << $crate::abi::EVENT_TCP_START };
    (@bit tcp_message) => { 1u64 << $crate::abi::EVENT_TCP_MESSAGE };
    (@bit tcp_end) => { 1u64 << $crate::abi::EVENT_TCP_END };
    (@bit tcp_error) => { 1u64 << $crate::abi::EVENT_TCP_ERROR };
    (@bit http_connect) => { 1u64 << $crate::abi::EVENT_HTTP_CONNECT };
    (@bit http_connect_upstream) => { 1u64 << $crate::abi::EVENT_HTTP_CONNECT_UPSTREAM };
    (@bit http_connected) => { 1u64 << $crate::abi::EVENT_HTTP_CONNECTED };
    (@bit http_connect_error) => { 1u64 << $crate::abi::EVENT_HTTP_CONNECT_ERROR };
    (@bit server_connected) => { 1u64 << $crate::abi::EVENT_SERVER_CONNECTED };
    (@bit server_disconnected) => { 1u64 << $crate::abi::EVENT_SERVER_DISCONNECTED };
    (@bit server_connect_error) => { 1u64 << $crate::abi::EVENT_SERVER_CONNECT_ERROR };
    (@bit tls_clienthello) => { 1u64 << $crate::abi::EVENT_TLS_CLIENTHELLO };
    (@bit tls_start_client) => { 1u64 << $crate::abi::EVENT_TLS_START_CLIENT };
    (@bit tls_start_server) => { 1u64 << $crate::abi::EVENT_TLS_START_SERVER };
    (@bit tls_established_client) => { 1u64 << $crate::abi::EVENT_TLS_ESTABLISHED_CLIENT };
    (@bit tls_established_server) => { 1u64 << $crate::abi::EVENT_TLS_ESTABLISHED_SERVER };
    (@bit tls_failed_client) => { 1u64 << $crate::abi::EVENT_TLS_FAILED_CLIENT };
    (@bit tls_failed_server) => { 1u64 << $crate::abi::EVENT_TLS_FAILED_SERVER };
    (@bit update) => { 1u64 << $crate::abi::EVENT_UPDATE };
    (@export $script:ty, $descriptor:expr) => {
        /// The ABI version this script was built for (read first at load).
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "C" fn waylay_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        /// The script's descriptor: SDK version and entry points.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "C" fn waylay_script_descriptor() -> *const $crate::abi::ScriptDescriptor {
            static DESCRIPTOR: $crate::__export::StaticDescriptor = $crate::__export::StaticDescriptor($descriptor);
            $crate::__export::quiet_panics();
            &DESCRIPTOR.0
        }
    };
    ($script:ty, concurrent = [$($hook:ident),+ $(,)?]) => {
        $crate::export_script!(@export $script, $crate::__export::descriptor_concurrent::<$script>(
            0 $(| $crate::export_script!(@bit $hook))+
        ));
    };
    ($script:ty) => {
        $crate::export_script!(@export $script, $crate::__export::descriptor::<$script>());
    };
}
