//! osd-engine
