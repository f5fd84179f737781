//! osd-testlab
