//! Opening a compiled script: dlopen, the ABI handshake, the descriptor.
//! Libraries are never unloaded (see ARCHITECTURE.md).

use std::fmt;
use std::path::{Path, PathBuf};

use waylay_sdk::abi::{self, ScriptDescriptor};

/// Why a library could not be used as a script.
#[derive(Debug)]
pub enum LoadError {
    /// The dynamic loader refused the file.
    Open(PathBuf, String),
    /// The library exports no Waylay entry points.
    NotAScript(PathBuf),
    /// Built for another ABI version.
    Abi(PathBuf, u32),
    /// Built against another SDK version.
    Sdk(PathBuf, String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Open(path, why) => write!(f, "cannot load {}: {why}", path.display()),
            LoadError::NotAScript(path) => write!(
                f,
                "{} is not a Waylay script: it exports no `waylay_abi_version`; export your script type with \
                 `waylay_sdk::export_script!(YourType);`",
                path.display()
            ),
            LoadError::Abi(path, found) => write!(
                f,
                "{} was built for script ABI {found}, but this runner speaks ABI {} ({}); rebuild it against \
                 this runner's SDK (`runner -s DIR` does that)",
                path.display(),
                abi::ABI_VERSION,
                abi::ABI_CHANGE
            ),
            LoadError::Sdk(path, found) => write!(
                f,
                "{} was built against waylay-sdk {found}, but this runner has {}; rebuild it with this runner \
                 (`runner -s DIR` pins the SDK)",
                path.display(),
                abi::SDK_VERSION
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads the library at `path` for good and checks it is a script this
/// host can drive.
pub fn open(path: &Path) -> Result<&'static ScriptDescriptor, LoadError> {
    // SAFETY: loading runs the library's initializers. The runner built it
    // from the user's script crate; running the user's code is the point.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|e| LoadError::Open(path.to_owned(), e.to_string()))?;
    // Never unloaded: a Rust cdylib with thread-local destructors cannot be
    // unloaded safely, and instances may outlive any scope here.
    let library: &'static libloading::Library = Box::leak(Box::new(library));

    // SAFETY: the symbol, when present, is the SDK's `extern "C" fn() -> u32`.
    let version = unsafe { library.get::<extern "C" fn() -> u32>(abi::ABI_VERSION_SYMBOL) };
    let version = version.map_err(|_| LoadError::NotAScript(path.to_owned()))?;
    let found = version();
    if found != abi::ABI_VERSION {
        return Err(LoadError::Abi(path.to_owned(), found));
    }
    // SAFETY: same ABI version, so the symbol has this exact signature.
    let descriptor = unsafe {
        library.get::<extern "C" fn() -> *const ScriptDescriptor>(abi::DESCRIPTOR_SYMBOL)
    };
    let descriptor = descriptor.map_err(|_| LoadError::NotAScript(path.to_owned()))?;
    // SAFETY: the SDK returns a pointer to a static descriptor that lives as
    // long as the library, which is never unloaded.
    let descriptor: &'static ScriptDescriptor = unsafe { &*descriptor() };
    // SAFETY: `sdk_version` points at the library's static string.
    let sdk = unsafe {
        std::slice::from_raw_parts(descriptor.sdk_version.ptr, descriptor.sdk_version.len)
    };
    if sdk != abi::SDK_VERSION.as_bytes() {
        return Err(LoadError::Sdk(
            path.to_owned(),
            String::from_utf8_lossy(sdk).into_owned(),
        ));
    }
    Ok(descriptor)
}
