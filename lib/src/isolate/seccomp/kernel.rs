//! Kernel versions as moby's profile compares them.

/// "MAJOR.MINOR" and whatever follows ("6.1.0-18-amd64", "3.12-1", "4.8"),
/// read as moby reads it; only the leading digits of MINOR count.
pub fn parse(v: &str) -> Option<(u32, u32)> {
    let (major, rest) = v.split_once('.')?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some((major.parse().ok()?, rest[..digits].parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert_eq!(super::parse("6.18.44-fc-v973"), Some((6, 18)));
        assert_eq!(super::parse("3.12-1-amd64"), Some((3, 12)));
        assert_eq!(super::parse("4.8"), Some((4, 8)));
        assert_eq!(super::parse("5.4rc1"), Some((5, 4)));
        assert_eq!(super::parse("5"), None);
        assert_eq!(super::parse("x.1"), None);
    }
}
