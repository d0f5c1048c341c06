//! Matching fully-qualified protobuf names against user-supplied paths.

/// Whether `matcher` selects the fully-qualified protobuf name `fq_name`
/// (e.g. `.routeguide.RouteGuide.GetFeature`), with prost-build's rules:
///
/// * `.` selects everything;
/// * a matcher with a leading `.` selects the name itself and everything
///   nested under it (`.routeguide` selects `.routeguide.RouteGuide`);
/// * a matcher without one selects names ending in it on a `.` boundary
///   (`RouteGuide.GetFeature`).
pub fn matches(matcher: &str, fq_name: &str) -> bool {
    if matcher == "." {
        return true;
    }
    if matcher.starts_with('.') {
        return has_prefix_segments(fq_name, matcher);
    }
    fq_name
        .strip_suffix(matcher)
        .is_some_and(|rest| rest.ends_with('.'))
}

/// Whether `fq_name` is `prefix` or lies below it in the `.`-separated hierarchy.
pub fn has_prefix_segments(fq_name: &str, prefix: &str) -> bool {
    fq_name
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The fully-qualified name of `name` declared in `package` (which may be empty).
pub fn qualify(package: &str, name: &str) -> String {
    if package.is_empty() {
        format!(".{name}")
    } else {
        format!(".{package}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_prost_build() {
        let name = ".routeguide.RouteGuide.GetFeature";
        for yes in [
            ".",
            ".routeguide",
            ".routeguide.RouteGuide",
            name,
            "GetFeature",
            "RouteGuide.GetFeature",
        ] {
            assert!(matches(yes, name), "{yes} should match");
        }
        for no in [
            ".route",
            ".RouteGuide",
            "Feature",
            "Guide.GetFeature",
            ".routeguide.RouteGuide.GetFeatures",
        ] {
            assert!(!matches(no, name), "{no} should not match");
        }
    }

    #[test]
    fn qualifies_with_and_without_package() {
        assert_eq!(qualify("a.b", "Svc"), ".a.b.Svc");
        assert_eq!(qualify("", "Svc"), ".Svc");
    }
}
