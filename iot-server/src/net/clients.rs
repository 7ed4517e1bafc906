//! One session per client ID: "If the ClientId represents a Client already connected to the
//! Server then the Server MUST disconnect the existing Client" (MQTT 3.1.1 §3.1.4-2; IoT Hub
//! does the same for a device ID). Keys name the endpoint too (`hub/{host}/{id}`,
//! `dps/{registrationId}`), so a DPS session does not end the device's hub session.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// The open sessions by client key, each with its ticket and take-over signal.
#[derive(Debug, Default)]
struct Table {
    last_ticket: u64,
    by_key: HashMap<String, (u64, watch::Sender<bool>)>,
}

/// The open sessions by client key.
#[derive(Debug, Default)]
pub(crate) struct Clients {
    open: Mutex<Table>,
}

/// A session's registration: its ticket and the signal that a newer session took over.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) key: String,
    pub(crate) ticket: u64,
    pub(crate) replaced: watch::Receiver<bool>,
}

impl Clients {
    /// Registers a session under `key`, ending the one that held it.
    pub(crate) fn register(&self, key: String) -> Option<Registration> {
        let (tx, rx) = watch::channel(false);
        let mut open = self.open.lock().ok()?;
        open.last_ticket += 1;
        let ticket = open.last_ticket;
        if let Some((_, old)) = open.by_key.insert(key.clone(), (ticket, tx)) {
            let _ = old.send(true);
        }
        Some(Registration {
            key,
            ticket,
            replaced: rx,
        })
    }

    /// Forgets a session, unless a newer one already holds its key.
    pub(crate) fn unregister(&self, registration: &Registration) {
        if let Ok(mut open) = self.open.lock()
            && open
                .by_key
                .get(&registration.key)
                .is_some_and(|(ticket, _)| *ticket == registration.ticket)
        {
            open.by_key.remove(&registration.key);
        }
    }
}
