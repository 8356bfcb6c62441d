//! The events that are not about a flow: the script's own life (`start`,
//! `configure`, `running`, `done`, a reload) and the connection and TLS
//! events, whose target is a connection record or a ClientHello.

use std::sync::atomic::Ordering;

use super::ffi::{CallCtx, Target};
use super::{Access, Script, Scripts, Slot, lock_for, write};
use crate::event::Event;
use crate::tnetstring::Value;

impl Scripts {
    /// Sets the proxy's own option names, which `configure` lists before
    /// the scripts' options.
    pub fn set_option_names(&mut self, names: impl IntoIterator<Item = String>) {
        self.option_names = names.into_iter().collect();
    }

    /// `start`, with each script's argv, then `configure` with every
    /// option's name.
    pub fn start(&self) {
        let names = self.all_option_names();
        for slot in &self.scripts {
            let mut script = write(slot);
            self.simple(&mut script, Event::Start, &names);
            self.simple(&mut script, Event::Configure, &names);
        }
    }

    /// `running`: serving (or reading flows) begins.
    pub fn running(&self) {
        self.running.store(true, Ordering::Relaxed);
        self.scripts
            .iter()
            .for_each(|slot| self.simple(&mut write(slot), Event::Running, &[]));
    }

    /// `configure` with the names of the options that changed while
    /// running (the web view's rules).
    pub fn configure(&self, changed: &[String]) {
        for slot in &self.scripts {
            self.simple(&mut write(slot), Event::Configure, changed);
        }
    }

    /// `done`.
    pub fn done(&self) {
        self.scripts
            .iter()
            .for_each(|slot| self.simple(&mut write(slot), Event::Done, &[]));
    }

    /// Swaps in a new build of the script at `index`: `done` on the old
    /// instance; `start`, `configure` and (once the proxy runs) `running`
    /// on the new one, which then gets every later event. The old library
    /// stays loaded (libraries are never unloaded).
    pub fn replace(&self, index: usize, script: Script) {
        let Some(slot) = self.scripts.get(index) else {
            return;
        };
        // Read before the lock below: the names come from every script.
        let mut names = self.all_option_names();
        let mut current = write(slot);
        self.simple(&mut current, Event::Done, &[]);
        // The new build may declare other options than the old one did.
        let old: Vec<String> = current.declared.iter().map(|o| o.name.clone()).collect();
        names.retain(|n| !old.contains(n));
        names.extend(script.declared.iter().map(|o| o.name.clone()));
        drop(std::mem::replace(&mut *current, script));
        slot.defaults.store(0, Ordering::Relaxed);
        slot.timing.reset();
        self.simple(&mut current, Event::Start, &names);
        self.simple(&mut current, Event::Configure, &names);
        if self.running.load(Ordering::Relaxed) {
            self.simple(&mut current, Event::Running, &[]);
        }
    }

    /// Every option's name: the proxy's, then the scripts'. Takes each
    /// script's lock for reading: never call it holding one.
    fn all_option_names(&self) -> Vec<String> {
        let declared = self.declared().into_iter().map(|o| o.name);
        self.option_names.iter().cloned().chain(declared).collect()
    }

    /// `start`, `configure` (with `names`), `running` or `done`.
    fn simple(&self, script: &mut Script, event: Event, names: &[String]) {
        let ctx = CallCtx::new(&script.name, &*self.log).with_options(&self.options);
        let target = match event {
            Event::Start => Target::Argv(&script.argv),
            Event::Configure => Target::Argv(names),
            _ => Target::Nothing,
        };
        if let Err(panic) = script.instance.call(&ctx, event.code(), target) {
            self.report(&script.name, event, None, &panic);
        }
    }

    /// A connection or TLS event (`client_connect`, `server_connected`,
    /// `tls_failed_client`, ...) about the connection record `conn`.
    pub fn conn_event(&self, event: Event, conn: &Value) {
        for slot in self.scripts.iter().filter(|slot| !slot.ignores(event)) {
            self.call(event, slot, Target::Conn(conn));
        }
    }

    /// `tls_clienthello`: the client connection (its `sni` and
    /// `alpn_offers` the hello's) and the server one, if any. True when a
    /// script chose to let the connection pass through.
    pub fn client_hello(&self, client: &Value, server: Option<&Value>) -> bool {
        let event = Event::TlsClienthello;
        let mut ignore = false;
        for slot in self.scripts.iter().filter(|slot| !slot.ignores(event)) {
            let target = Target::Tls {
                client,
                server,
                ignore: Some(&mut ignore),
            };
            self.call(event, slot, target);
        }
        ignore
    }

    /// A TLS event past the hello (`tls_start_client`,
    /// `tls_failed_server`, ...), with both connections.
    pub fn tls_event(&self, event: Event, client: &Value, server: Option<&Value>) {
        for slot in self.scripts.iter().filter(|slot| !slot.ignores(event)) {
            let target = Target::Tls {
                client,
                server,
                ignore: None,
            };
            self.call(event, slot, target);
        }
    }

    /// One script's hook for an event with nothing to undo (no flow, or
    /// `update`'s read-only one): under its shared lock when the script
    /// made the hook concurrent, else its exclusive one. A panic is
    /// reported.
    pub(super) fn call(&self, event: Event, slot: &Slot, target: Target<'_, '_>) {
        let (name, called) = match lock_for(event, slot) {
            Access::Shared(script) => {
                let ctx = CallCtx::new(&script.name, &*self.log).with_options(&self.options);
                let called = script.instance.call_shared(&ctx, event.code(), target);
                (script.name.clone(), called)
            }
            Access::Exclusive(mut guard) => {
                let script: &mut Script = &mut guard;
                let ctx = CallCtx::new(&script.name, &*self.log).with_options(&self.options);
                let called = script.instance.call(&ctx, event.code(), target);
                (script.name.clone(), called)
            }
            Access::Skip => return,
        };
        slot.learn(event, &called);
        if let Err(panic) = called {
            self.report(&name, event, None, &panic);
        }
    }
}
