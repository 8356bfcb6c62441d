//! [`DeclaredOption`]: an option a script declares, as the host keeps it
//! and checks `--set` values against. Its own file so that the boundary
//! (`ffi`), which reads declarations, and `Scripts`, which holds them,
//! both import it and not each other.

/// An option a script declares (`waylay_sdk::ScriptOption`), as the host
/// keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredOption {
    /// The name `--set` takes.
    pub name: String,
    /// What values it takes.
    pub kind: waylay_sdk::OptionKind,
    /// Its value unless set.
    pub default: String,
    /// One line of help.
    pub help: String,
    /// The script that declares it.
    pub script: String,
}

/// A `--set` value that is not of its option's kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongValue {
    /// The option's name.
    pub name: String,
    /// The value given.
    pub value: String,
    /// What the option takes, in words (`true or false`, …).
    pub expected: &'static str,
    /// The option's help line.
    pub help: String,
}

impl std::fmt::Display for WrongValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let WrongValue {
            name,
            value,
            expected,
            help,
        } = self;
        write!(f, "--set {name}={value}: expected {expected} ({help})")
    }
}

impl std::error::Error for WrongValue {}

impl DeclaredOption {
    /// Checks a `--set` value; the error says what is expected.
    pub fn check(&self, value: &str) -> Result<(), WrongValue> {
        let ok = match self.kind {
            waylay_sdk::OptionKind::Bool => value == "true" || value == "false",
            waylay_sdk::OptionKind::Int => value.parse::<i64>().is_ok(),
            waylay_sdk::OptionKind::Str => true,
        };
        let expected = match self.kind {
            waylay_sdk::OptionKind::Bool => "true or false",
            waylay_sdk::OptionKind::Int => "a whole number",
            waylay_sdk::OptionKind::Str => "text",
        };
        if ok {
            Ok(())
        } else {
            Err(WrongValue {
                name: self.name.clone(),
                value: value.to_owned(),
                expected,
                help: self.help.clone(),
            })
        }
    }
}
