//! [`ScriptOption`]: typed settings a script declares, set with
//! `--set name=value` and read through [`Context`](crate::Context).

/// What values an option takes; `--set` refuses anything else at start-up.
///
/// ```
/// use waylay_sdk::OptionKind;
/// let kind = OptionKind::Int;
/// assert_ne!(kind, OptionKind::Bool);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Int,
    /// Any text.
    Str,
}

/// One option of a script: its name (unique across the scripts of a
/// run), what it takes, its default and one line of help for
/// `runner --options`.
///
/// ```
/// use waylay_sdk::{Context, OptionKind, Script, ScriptOption};
///
/// #[derive(Default)]
/// struct Tagger;
///
/// impl Script for Tagger {
///     fn options() -> &'static [ScriptOption] {
///         const OPTIONS: &[ScriptOption] = &[ScriptOption {
///             name: "tag",
///             kind: OptionKind::Str,
///             default: "waylay",
///             help: "The value of the x-tag header.",
///         }];
///         OPTIONS
///     }
///
///     fn start(&mut self, ctx: &Context, _argv: &[&str]) {
///         ctx.info(&format!("tagging with {:?}", ctx.option("tag")));
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptOption {
    /// The name given to `--set`.
    pub name: &'static str,
    /// What it takes.
    pub kind: OptionKind,
    /// The value when `--set` does not give one.
    pub default: &'static str,
    /// One line for `runner --options`.
    pub help: &'static str,
}
