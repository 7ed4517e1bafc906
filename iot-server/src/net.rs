//! The tokio plumbing: the listener, one task per connection, the store writer thread. It
//! moves bytes and time between sockets and the sans-I/O [`crate::engine`], and nothing else.

pub(crate) mod clients;
pub(crate) mod listener;
pub(crate) mod session;
pub(crate) mod writer;
