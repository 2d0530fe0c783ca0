//! load: stub
