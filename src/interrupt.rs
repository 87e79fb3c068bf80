//! Ctrl-C during a lab step stops it cleanly: the handler only raises a flag that the
//! step's loop reads, so the step is recorded as interrupted and the cluster is left as
//! it is. (kubectl and kind, in the same process group, get the signal too.)

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Installs the handler (once) and returns the flag it raises.
pub fn flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let raised = Arc::clone(&flag);
    // Fails only if a handler is already installed, which this program never does twice.
    let _ = ctrlc::set_handler(move || raised.store(true, std::sync::atomic::Ordering::SeqCst));
    flag
}
