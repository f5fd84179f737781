//! osd-remote
