//! (attack tests land here)
