//! One adapter per carrier, each in its own folder with the same files.
