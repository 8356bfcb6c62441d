//! The C boundary between a script and the host: the only types that cross it.
//!
//! Nothing here is for script authors; the host (`waylay-proxy`) shares these
//! definitions so both sides agree by construction. Only `#[repr(C)]` data and
//! `extern "C"` function pointers appear. Pointers handed to a hook are valid
//! for that call only. Bytes the host returns stay owned by the host; bytes a
//! script passes in are copied by the host before the call returns, so each
//! side frees only what it allocated.

use std::ffi::c_void;

/// Bumped on any change to a type or function in this module.
pub const ABI_VERSION: u32 = 7;

/// What the current [`ABI_VERSION`] changed, for the loader's mismatch message.
pub const ABI_CHANGE: &str = "ABI 7 added mitmproxy 11's other events: http_connect and its kin, the server connection's life, the TLS handshakes, running, configure and update; TlsArgs, the TLS events' target; and a 64-bit concurrent mask";

/// The SDK version a script was built against, checked at load.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Name of the exported `extern "C" fn() -> u32` that returns [`ABI_VERSION`].
pub const ABI_VERSION_SYMBOL: &[u8] = b"waylay_abi_version";
/// Name of the exported `extern "C" fn() -> *const ScriptDescriptor`.
pub const DESCRIPTOR_SYMBOL: &[u8] = b"waylay_script_descriptor";

/// A borrowed run of bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RawBytes {
    /// Start; may dangle when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl RawBytes {
    /// The empty run.
    pub const EMPTY: RawBytes = RawBytes {
        ptr: std::ptr::NonNull::dangling().as_ptr(),
        len: 0,
    };

    /// Borrows `bytes` for the length of a call.
    pub fn new(bytes: &[u8]) -> RawBytes {
        RawBytes {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// The host's flow; opaque to scripts.
#[repr(C)]
#[derive(Debug)]
pub struct HostFlow {
    _private: [u8; 0],
}

/// The host's connection (client or server side); opaque to scripts.
#[repr(C)]
#[derive(Debug)]
pub struct HostConn {
    _private: [u8; 0],
}

/// A filter expression the host compiled; opaque to scripts, freed with
/// `HostApi::filter_free`. Immutable: any thread may match with it.
#[repr(C)]
#[derive(Debug)]
pub struct HostFilter {
    _private: [u8; 0],
}

/// The host's per-call context (logging, panic reports); opaque to scripts.
#[repr(C)]
#[derive(Debug)]
pub struct HostCtx {
    _private: [u8; 0],
}

/// Argument of the TLS events (`tls_clienthello`, `tls_start_client`,
/// ...).
#[repr(C)]
#[derive(Debug)]
pub struct TlsArgs {
    /// The client connection; at `tls_clienthello` its `sni` and ALPN
    /// offers are those of the hello.
    pub client: *const HostConn,
    /// The server connection, or null when there is none.
    pub server: *const HostConn,
    /// `tls_clienthello` only: set non-zero by the script, the connection
    /// passes through, neither decrypted nor recorded.
    pub ignore_connection: u32,
}

/// Argument of the `start` event (the script's argv) and of `configure`
/// (the names of the options that changed).
#[repr(C)]
#[derive(Debug)]
pub struct StartArgs {
    /// The words after the script path in `-s "DIR arg1 arg2"`.
    pub argv: *const RawBytes,
    /// How many.
    pub argc: usize,
}

// Events, as passed to `ScriptDescriptor::hook`. The target pointer is
// null for `start`'s argv-less form, `running` and `done`, a
// `*const StartArgs` for `start` and `configure`, a `*mut TlsArgs` for the
// TLS events, a `*mut HostConn` for the other connection events, and a
// `*mut HostFlow` for flow events (`update` included).
pub const EVENT_START: u32 = 0;
pub const EVENT_CLIENT_CONNECT: u32 = 1;
pub const EVENT_SERVER_CONNECT: u32 = 2;
pub const EVENT_REQUEST_HEADERS: u32 = 3;
pub const EVENT_REQUEST: u32 = 4;
pub const EVENT_RESPONSE_HEADERS: u32 = 5;
pub const EVENT_RESPONSE: u32 = 6;
pub const EVENT_ERROR: u32 = 7;
pub const EVENT_CLIENT_DISCONNECT: u32 = 8;
pub const EVENT_DONE: u32 = 9;
pub const EVENT_WEBSOCKET_START: u32 = 10;
pub const EVENT_WEBSOCKET_MESSAGE: u32 = 11;
pub const EVENT_WEBSOCKET_END: u32 = 12;
pub const EVENT_TCP_START: u32 = 13;
pub const EVENT_TCP_MESSAGE: u32 = 14;
pub const EVENT_TCP_END: u32 = 15;
pub const EVENT_TCP_ERROR: u32 = 16;
pub const EVENT_HTTP_CONNECT: u32 = 17;
pub const EVENT_HTTP_CONNECT_UPSTREAM: u32 = 18;
pub const EVENT_HTTP_CONNECTED: u32 = 19;
pub const EVENT_HTTP_CONNECT_ERROR: u32 = 20;
pub const EVENT_SERVER_CONNECTED: u32 = 21;
pub const EVENT_SERVER_DISCONNECTED: u32 = 22;
pub const EVENT_SERVER_CONNECT_ERROR: u32 = 23;
pub const EVENT_TLS_CLIENTHELLO: u32 = 24;
pub const EVENT_TLS_START_CLIENT: u32 = 25;
pub const EVENT_TLS_START_SERVER: u32 = 26;
pub const EVENT_TLS_ESTABLISHED_CLIENT: u32 = 27;
pub const EVENT_TLS_ESTABLISHED_SERVER: u32 = 28;
pub const EVENT_TLS_FAILED_CLIENT: u32 = 29;
pub const EVENT_TLS_FAILED_SERVER: u32 = 30;
pub const EVENT_RUNNING: u32 = 31;
pub const EVENT_CONFIGURE: u32 = 32;
pub const EVENT_UPDATE: u32 = 33;

// Results of `hook`.
pub const HOOK_OK: u32 = 0;
pub const HOOK_PANICKED: u32 = 1;
/// The hook is the trait's default, which does nothing: the host may skip
/// this event for this script from now on.
pub const HOOK_DEFAULT: u32 = 2;

// Status codes of host functions.
pub const STATUS_OK: i32 = 0;
/// The thing asked for is absent (no response, a null field).
pub const STATUS_ABSENT: i32 = 1;
/// The argument was refused; `last_error` says why.
pub const STATUS_INVALID: i32 = 2;

// Which message of a flow.
pub const MSG_REQUEST: u32 = 0;
pub const MSG_RESPONSE: u32 = 1;
/// The request's trailers, for the header functions (ABI 6).
pub const MSG_REQUEST_TRAILERS: u32 = 2;
/// The response's trailers, for the header functions (ABI 6).
pub const MSG_RESPONSE_TRAILERS: u32 = 3;

// Byte fields of a message.
pub const FIELD_METHOD: u32 = 0;
pub const FIELD_SCHEME: u32 = 1;
pub const FIELD_HOST: u32 = 2;
pub const FIELD_AUTHORITY: u32 = 3;
pub const FIELD_PATH: u32 = 4;
pub const FIELD_HTTP_VERSION: u32 = 5;
pub const FIELD_REASON: u32 = 6;
pub const FIELD_CONTENT: u32 = 7;
// Integer fields of a message.
pub const FIELD_PORT: u32 = 8;
pub const FIELD_STATUS_CODE: u32 = 9;
// Float fields of a message.
pub const FIELD_TIMESTAMP_START: u32 = 10;
pub const FIELD_TIMESTAMP_END: u32 = 11;
// Flag of a message (0/1 through `msg_int`): stream the body, don't keep it.
pub const FIELD_STREAM: u32 = 12;

// Text fields of a flow.
pub const FLOW_ID: u32 = 0;
pub const FLOW_COMMENT: u32 = 1;
pub const FLOW_MARKED: u32 = 2;
pub const FLOW_ERROR_MSG: u32 = 3;
// Float fields of a flow.
pub const FLOW_TIMESTAMP_CREATED: u32 = 4;
pub const FLOW_ERROR_TIMESTAMP: u32 = 5;
// Flag fields of a flow (read as 0/1 through `flow_int`).
pub const FLOW_LIVE: u32 = 6;
pub const FLOW_KILLABLE: u32 = 7;
// The flow's WebSocket, read through `flow_int` (0/1 flag, counts, codes),
// `flow_float` and `flow_text`; `STATUS_ABSENT` when the flow has no
// WebSocket or the field is null.
pub const FLOW_WEBSOCKET: u32 = 8;
pub const FLOW_WS_MESSAGES: u32 = 9;
pub const FLOW_WS_CLOSED_BY_CLIENT: u32 = 10;
pub const FLOW_WS_CLOSE_CODE: u32 = 11;
pub const FLOW_WS_TIMESTAMP_END: u32 = 12;
pub const FLOW_WS_CLOSE_REASON: u32 = 13;
// The flow's `type` ("http", "tcp", ...), through `flow_text`.
pub const FLOW_TYPE: u32 = 14;
// How many messages a TCP flow has, through `flow_int`; `STATUS_ABSENT`
// when the flow is not a TCP flow.
pub const FLOW_TCP_MESSAGES: u32 = 15;
// `is_replay` ("request", "response"), through `flow_text`; `STATUS_ABSENT`
// when the flow is not a replay.
pub const FLOW_IS_REPLAY: u32 = 16;

// Views of a message the host computes with mitmproxy's semantics, read
// with `msg_view` and (where said) written with `msg_set_view`. Text views
// are UTF-8; list views are items each written as a 4-byte little-endian
// length and its bytes (pairs: name, value, name, value, ...).
/// `Request.url` (text; settable: scheme, host, port and path at once).
pub const VIEW_URL: u32 = 0;
/// `Request.pretty_url` (text).
pub const VIEW_PRETTY_URL: u32 = 1;
/// `Request.pretty_host` (text).
pub const VIEW_PRETTY_HOST: u32 = 2;
/// `Request.host_header` (text; `STATUS_ABSENT` without one).
pub const VIEW_HOST_HEADER: u32 = 3;
/// `Message.text` (text; settable). `STATUS_INVALID` when the body does
/// not decode (the reason through `last_error`). What the host hands over
/// is always UTF-8 it has checked or made, so the SDK takes it as it is.
pub const VIEW_TEXT: u32 = 4;
/// `Request.query` (pairs; settable).
pub const VIEW_QUERY: u32 = 5;
/// `Request.path_components` (items; settable).
pub const VIEW_PATH_COMPONENTS: u32 = 6;
/// `Request.cookies` (pairs; settable).
pub const VIEW_COOKIES: u32 = 7;
/// `Request.urlencoded_form` (pairs; settable).
pub const VIEW_URLENCODED_FORM: u32 = 8;
/// `Request.multipart_form` (pairs; settable).
pub const VIEW_MULTIPART_FORM: u32 = 9;
/// `Response.cookies` (settable): per cookie three items, the name, the
/// value (a first byte 1 then the value, or a lone 0 for none) and the
/// attributes (items: name, value as before).
pub const VIEW_SET_COOKIES: u32 = 10;
/// `Message.encode(name)` (set only): the body encoded with `name` and
/// the Content-Encoding set; `STATUS_INVALID` for an unknown coding (the
/// message as it was).
pub const VIEW_CONTENT_ENCODING: u32 = 11;

// Changes `msg_op` makes, as mitmproxy's methods of the same names.
pub const OP_ANTICACHE: u32 = 0;
pub const OP_ANTICOMP: u32 = 1;
pub const OP_CONSTRAIN_ENCODING: u32 = 2;
/// `Response.refresh()`: dates and cookie expiry moved to now.
pub const OP_REFRESH: u32 = 3;
/// `Message.decode()`: the body decoded, Content-Encoding removed.
pub const OP_DECODE: u32 = 4;

// Fields of a WebSocket message (mitmproxy's `[type, from_client, content,
// timestamp, dropped, injected]`): bytes, integers (flags as 0/1), float.
pub const WSMSG_CONTENT: u32 = 0;
pub const WSMSG_TYPE: u32 = 1;
pub const WSMSG_FROM_CLIENT: u32 = 2;
pub const WSMSG_DROPPED: u32 = 3;
pub const WSMSG_INJECTED: u32 = 4;
pub const WSMSG_TIMESTAMP: u32 = 5;

// WebSocket message types (RFC 6455 opcodes), as `WSMSG_TYPE` reads them.
pub const WS_TEXT: i64 = 1;
pub const WS_BINARY: i64 = 2;

// Header edits.
pub const HEADERS_SET: u32 = 0;
pub const HEADERS_APPEND: u32 = 1;
pub const HEADERS_REMOVE: u32 = 2;
pub const HEADERS_INSERT: u32 = 3;
pub const HEADERS_REMOVE_AT: u32 = 4;

// Sides of a connection.
pub const CONN_CLIENT: u32 = 0;
pub const CONN_SERVER: u32 = 1;

// Text fields of a connection; list fields take an index.
pub const CONN_ID: u32 = 0;
pub const CONN_PEER_HOST: u32 = 1;
pub const CONN_SOCK_HOST: u32 = 2;
pub const CONN_ADDRESS_HOST: u32 = 3;
pub const CONN_SNI: u32 = 4;
pub const CONN_ALPN: u32 = 5;
pub const CONN_TLS_VERSION: u32 = 6;
pub const CONN_CIPHER: u32 = 7;
pub const CONN_ERROR: u32 = 8;
pub const CONN_CERTIFICATE: u32 = 9;
pub const CONN_ALPN_OFFER: u32 = 10;
pub const CONN_PROXY_MODE: u32 = 11;
// Integer fields of a connection.
pub const CONN_PEER_PORT: u32 = 12;
pub const CONN_SOCK_PORT: u32 = 13;
pub const CONN_ADDRESS_PORT: u32 = 14;
pub const CONN_TLS: u32 = 15;
pub const CONN_CERTIFICATE_COUNT: u32 = 16;
pub const CONN_ALPN_OFFER_COUNT: u32 = 17;
// Float fields of a connection.
pub const CONN_TIMESTAMP_START: u32 = 18;
pub const CONN_TIMESTAMP_END: u32 = 19;
pub const CONN_TIMESTAMP_TLS_SETUP: u32 = 20;

// Option kinds.
pub const OPTION_BOOL: u32 = 0;
pub const OPTION_INT: u32 = 1;
pub const OPTION_STR: u32 = 2;

// Log levels.
pub const LEVEL_DEBUG: u32 = 0;
pub const LEVEL_INFO: u32 = 1;
pub const LEVEL_WARN: u32 = 2;
pub const LEVEL_ERROR: u32 = 3;

/// Functions the host lends a script. Every pointer argument must be one the
/// host handed to the current hook call.
#[repr(C)]
#[derive(Debug)]
pub struct HostApi {
    /// `size_of::<HostApi>()` as the host built it.
    pub size: usize,
    /// Writes a log line at `level` through the runner's output.
    pub log: unsafe extern "C" fn(ctx: *const HostCtx, level: u32, msg: RawBytes),
    /// Records the message of a panic caught in the current hook.
    pub report_panic: unsafe extern "C" fn(ctx: *const HostCtx, msg: RawBytes),
    /// Declares one of the script's options (`OPTION_*` kind).
    pub declare_option: unsafe extern "C" fn(
        ctx: *const HostCtx,
        name: RawBytes,
        kind: u32,
        default: RawBytes,
        help: RawBytes,
    ),
    /// The value of an option, as text.
    pub option_get:
        unsafe extern "C" fn(ctx: *const HostCtx, name: RawBytes, out: *mut RawBytes) -> i32,

    /// Text field of the flow (`FLOW_*`).
    pub flow_text:
        unsafe extern "C" fn(flow: *const HostFlow, field: u32, out: *mut RawBytes) -> i32,
    /// Sets a text field of the flow (comment, marked).
    pub flow_set_text:
        unsafe extern "C" fn(flow: *mut HostFlow, field: u32, value: RawBytes) -> i32,
    /// Float field of the flow.
    pub flow_float: unsafe extern "C" fn(flow: *const HostFlow, field: u32, out: *mut f64) -> i32,
    /// Integer or flag field of the flow.
    pub flow_int: unsafe extern "C" fn(flow: *const HostFlow, field: u32, out: *mut i64) -> i32,
    /// Kills the flow; refused (`STATUS_INVALID`) when it is not killable.
    pub flow_kill: unsafe extern "C" fn(flow: *mut HostFlow) -> i32,
    /// A metadata value stored as text, by key.
    pub metadata_get:
        unsafe extern "C" fn(flow: *const HostFlow, key: RawBytes, out: *mut RawBytes) -> i32,
    /// Stores a text metadata value; an empty `value` with `remove` set deletes the key.
    pub metadata_set: unsafe extern "C" fn(
        flow: *mut HostFlow,
        key: RawBytes,
        value: RawBytes,
        remove: bool,
    ) -> i32,
    /// Why the last refused call on this flow was refused.
    pub last_error: unsafe extern "C" fn(flow: *const HostFlow, out: *mut RawBytes) -> i32,

    /// `STATUS_OK` when the flow has message `which`.
    pub msg_exists: unsafe extern "C" fn(flow: *const HostFlow, which: u32) -> i32,
    /// A byte field of a message.
    pub msg_bytes: unsafe extern "C" fn(
        flow: *const HostFlow,
        which: u32,
        field: u32,
        out: *mut RawBytes,
    ) -> i32,
    /// Sets a byte field of a message.
    pub msg_set_bytes:
        unsafe extern "C" fn(flow: *mut HostFlow, which: u32, field: u32, value: RawBytes) -> i32,
    /// An integer field of a message.
    pub msg_int:
        unsafe extern "C" fn(flow: *const HostFlow, which: u32, field: u32, out: *mut i64) -> i32,
    /// Sets an integer field of a message.
    pub msg_set_int:
        unsafe extern "C" fn(flow: *mut HostFlow, which: u32, field: u32, value: i64) -> i32,
    /// A float field of a message.
    pub msg_float:
        unsafe extern "C" fn(flow: *const HostFlow, which: u32, field: u32, out: *mut f64) -> i32,
    /// The body decoded per Content-Encoding.
    pub msg_decoded:
        unsafe extern "C" fn(flow: *const HostFlow, which: u32, out: *mut RawBytes) -> i32,
    /// Sets the body from decoded bytes, encoding it per Content-Encoding.
    pub msg_set_decoded:
        unsafe extern "C" fn(flow: *mut HostFlow, which: u32, value: RawBytes) -> i32,
    /// Replaces the response with a fresh one (HTTP/1.1, no headers, empty body).
    pub response_new: unsafe extern "C" fn(flow: *mut HostFlow, status: i64) -> i32,

    /// Number of header fields of a message.
    pub headers_len:
        unsafe extern "C" fn(flow: *const HostFlow, which: u32, out: *mut usize) -> i32,
    /// The header field at `index`.
    pub header_at: unsafe extern "C" fn(
        flow: *const HostFlow,
        which: u32,
        index: usize,
        name: *mut RawBytes,
        value: *mut RawBytes,
    ) -> i32,
    /// One of the `HEADERS_*` edits; `index` is used by the indexed ones.
    pub headers_edit: unsafe extern "C" fn(
        flow: *mut HostFlow,
        which: u32,
        op: u32,
        index: usize,
        name: RawBytes,
        value: RawBytes,
        removed: *mut usize,
    ) -> i32,

    /// The flow's client (`CONN_CLIENT`) or server connection, or null.
    pub flow_conn: unsafe extern "C" fn(flow: *const HostFlow, side: u32) -> *const HostConn,
    /// A text field of a connection; `index` selects within list fields.
    pub conn_bytes: unsafe extern "C" fn(
        conn: *const HostConn,
        field: u32,
        index: usize,
        out: *mut RawBytes,
    ) -> i32,
    /// An integer field of a connection.
    pub conn_int: unsafe extern "C" fn(conn: *const HostConn, field: u32, out: *mut i64) -> i32,
    /// A float field of a connection.
    pub conn_float: unsafe extern "C" fn(conn: *const HostConn, field: u32, out: *mut f64) -> i32,

    /// A bytes field (`WSMSG_CONTENT`) of the WebSocket message at `index`.
    pub ws_msg_bytes: unsafe extern "C" fn(
        flow: *const HostFlow,
        index: usize,
        field: u32,
        out: *mut RawBytes,
    ) -> i32,
    /// Sets a bytes field of the WebSocket message at `index`.
    pub ws_msg_set_bytes:
        unsafe extern "C" fn(flow: *mut HostFlow, index: usize, field: u32, value: RawBytes) -> i32,
    /// An integer or flag field of the WebSocket message at `index`.
    pub ws_msg_int:
        unsafe extern "C" fn(flow: *const HostFlow, index: usize, field: u32, out: *mut i64) -> i32,
    /// Sets a flag field (`WSMSG_DROPPED`) of the WebSocket message at `index`.
    pub ws_msg_set_int:
        unsafe extern "C" fn(flow: *mut HostFlow, index: usize, field: u32, value: i64) -> i32,
    /// A float field (`WSMSG_TIMESTAMP`) of the WebSocket message at `index`.
    pub ws_msg_float:
        unsafe extern "C" fn(flow: *const HostFlow, index: usize, field: u32, out: *mut f64) -> i32,
    /// Appends an injected message to the flow's WebSocket messages, to be
    /// sent to the client (`to_client`) or the server once the hook returns.
    /// Refused (`STATUS_INVALID`) for flows that are not live or whose
    /// WebSocket is closed.
    pub ws_inject: unsafe extern "C" fn(
        flow: *mut HostFlow,
        to_client: bool,
        is_text: bool,
        content: RawBytes,
    ) -> i32,

    /// The TCP message at `index` (mitmproxy's `[from_client, content,
    /// timestamp]`): all three at once; `timestamp` is NaN when the stored
    /// one is not a float. `STATUS_ABSENT` when there is no such message.
    pub tcp_msg: unsafe extern "C" fn(
        flow: *const HostFlow,
        index: usize,
        from_client: *mut bool,
        content: *mut RawBytes,
        timestamp: *mut f64,
    ) -> i32,
    /// Replaces the content of the TCP message at `index`.
    pub tcp_msg_set_content:
        unsafe extern "C" fn(flow: *mut HostFlow, index: usize, content: RawBytes) -> i32,
    /// Appends a TCP message (from the server when `to_client`, else from
    /// the client) for the live proxy to send once the event is over.
    /// Refused (`STATUS_INVALID`) for flows that are not live, that are not
    /// TCP flows, or whose connection has ended.
    pub tcp_inject:
        unsafe extern "C" fn(flow: *mut HostFlow, to_client: bool, content: RawBytes) -> i32,

    /// Compiles a filter expression (mitmproxy's language). Callable at
    /// any time, from any thread, not only during a hook. On success
    /// writes the filter to `filter` and returns `STATUS_OK`; otherwise
    /// writes the one-line error to `error` (host-owned, valid until the
    /// thread's next `filter_compile`) and the character position to
    /// `position`, and returns `STATUS_INVALID`.
    pub filter_compile: unsafe extern "C" fn(
        expression: RawBytes,
        filter: *mut *const HostFilter,
        error: *mut RawBytes,
        position: *mut usize,
    ) -> i32,
    /// `STATUS_OK` when the flow of the current hook matches the filter,
    /// `STATUS_ABSENT` when it does not.
    pub filter_matches:
        unsafe extern "C" fn(filter: *const HostFilter, flow: *const HostFlow) -> i32,
    /// Frees a filter `filter_compile` made; once, when the script is
    /// done with it.
    pub filter_free: unsafe extern "C" fn(filter: *const HostFilter),

    /// Copies the flow of the current hook, as it is now, under a new id
    /// (mitmproxy's `Flow.copy`). Returns the copy, a flow the script may
    /// read and change through this table until the hook returns; then the
    /// host adds it to the run. Null when refused (the reason through
    /// `last_error` of `flow`).
    pub duplicate: unsafe extern "C" fn(ctx: *const HostCtx, flow: *mut HostFlow) -> *mut HostFlow,
    /// Asks for the request of `flow` (the current hook's flow or a copy
    /// `duplicate` returned), as it is now, to be sent again as a new flow
    /// once the hook returns (mitmproxy's `replay.client`). Never waits
    /// for the network. `STATUS_INVALID` when refused (the reason through
    /// `last_error` of `flow`).
    pub replay: unsafe extern "C" fn(ctx: *const HostCtx, flow: *mut HostFlow) -> i32,

    /// A view of message `which` (`VIEW_*`), written to `out`: host-owned,
    /// valid until the next call on this flow (copy it at once).
    /// `STATUS_ABSENT` when the message or the value is absent,
    /// `STATUS_INVALID` when it cannot be computed (the reason through
    /// `last_error`).
    pub msg_view: unsafe extern "C" fn(
        flow: *const HostFlow,
        which: u32,
        view: u32,
        out: *mut RawBytes,
    ) -> i32,
    /// Sets a view of message `which`, as mitmproxy's setter does.
    pub msg_set_view:
        unsafe extern "C" fn(flow: *mut HostFlow, which: u32, view: u32, value: RawBytes) -> i32,
    /// A change to message `which` (`OP_*`).
    pub msg_op: unsafe extern "C" fn(flow: *mut HostFlow, which: u32, op: u32) -> i32,
    /// Replaces matches of the regular expression `pattern` (the `regex`
    /// crate's syntax) with `repl` (`$1`, `${name}`) in the decoded body
    /// and in each header field as `name: value`, at most `count` in each
    /// (0: all); the number made is written to `replaced`.
    pub msg_replace: unsafe extern "C" fn(
        flow: *mut HostFlow,
        which: u32,
        pattern: RawBytes,
        repl: RawBytes,
        count: usize,
        replaced: *mut usize,
    ) -> i32,
}

/// What `waylay_script_descriptor` returns; static, never freed.
#[repr(C)]
#[derive(Debug)]
pub struct ScriptDescriptor {
    /// [`SDK_VERSION`] of the script's build.
    pub sdk_version: RawBytes,
    /// Creates an instance; null if the constructor panicked.
    pub create: unsafe extern "C" fn(host: *const HostApi, ctx: *const HostCtx) -> *mut c_void,
    /// Runs one event on an instance; returns `HOOK_OK` or `HOOK_PANICKED`.
    pub hook: unsafe extern "C" fn(
        instance: *mut c_void,
        ctx: *const HostCtx,
        event: u32,
        target: *mut c_void,
    ) -> u32,
    /// Events whose hooks are concurrent: bit `1 << event` set. The host
    /// calls those through `hook_shared`, possibly from several threads at
    /// once, and never while `hook` runs on the same instance.
    pub concurrent: u64,
    /// Runs a concurrent event with shared access to the instance.
    pub hook_shared: unsafe extern "C" fn(
        instance: *const c_void,
        ctx: *const HostCtx,
        event: u32,
        target: *mut c_void,
    ) -> u32,
    /// Declares the script's options through `HostApi::declare_option`.
    pub options: unsafe extern "C" fn(host: *const HostApi, ctx: *const HostCtx),
    /// Drops an instance (the script frees what it allocated).
    pub destroy: unsafe extern "C" fn(instance: *mut c_void),
}

#[cfg(test)]
mod tests {
    /// The crate's minor version is the ABI version, so that cargo's
    /// semver tells which runners build a script (`runner upgrade`).
    #[test]
    fn the_minor_version_is_the_abi_version() {
        assert_eq!(
            env!("CARGO_PKG_VERSION_MINOR"),
            super::ABI_VERSION.to_string(),
            "bump waylay-sdk's version in script-sdk/Cargo.toml with the ABI"
        );
        assert_eq!(env!("CARGO_PKG_VERSION_MAJOR"), "0");
    }
}
