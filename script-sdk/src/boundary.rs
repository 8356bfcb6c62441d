//! The one place where this crate touches the C boundary: wrappers over the
//! host's function table ([`host`]) and the exported trampolines
//! ([`export`]). All of the crate's `unsafe` lives below this module.

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
#[macro_export]
macro_rules! export_script {
    ($script:ty) => {
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
            static DESCRIPTOR: $crate::__export::StaticDescriptor =
                $crate::__export::StaticDescriptor($crate::__export::descriptor::<$script>());
            $crate::__export::quiet_panics();
            &DESCRIPTOR.0
        }
    };
}
