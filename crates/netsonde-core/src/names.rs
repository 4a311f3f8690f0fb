//! Look-ups in the tables of (configuration name, value) that options such as the overlap
//! policies declare once: names are matched ignoring case, spaces around them, and `_`
//! written for `-`.

/// The value a configuration name stands for.
pub fn by_name<T: Copy>(all: &[(&str, T)], name: &str) -> Option<T> {
    let name = name.trim().to_ascii_lowercase().replace('_', "-");
    all.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// The configuration name of a value.
pub fn name_of<T: PartialEq>(all: &[(&'static str, T)], value: &T) -> Option<&'static str> {
    all.iter().find(|(_, v)| v == value).map(|&(n, _)| n)
}
