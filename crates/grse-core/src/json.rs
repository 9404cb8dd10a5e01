//! How deeply a JSON text nests, found without parsing it: arguments are
//! bounded before a recursive parser (and the recursive drop of what it
//! builds) can run out of its recursion limit or of stack.

/// The nesting depth of the JSON text `text` if it is at most `limit`
/// (0 for a scalar, 1 for `{}` or `[1]`, ...), else `Err(d)` with the first
/// depth `d > limit` reached. Brackets inside strings do not count; the text
/// is assumed to be JSON (as `jsonb` prints it), malformed text gives some
/// depth and is left to the parser.
pub fn depth_within(text: &str, limit: usize) -> Result<usize, usize> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Err(depth);
                }
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(deepest)
}

#[cfg(test)]
mod tests {
    use super::depth_within;

    fn nested(n: usize) -> String {
        format!("{}1{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn scalars_and_flat_documents() {
        assert_eq!(depth_within("1", 4), Ok(0));
        assert_eq!(depth_within("\"text\"", 4), Ok(0));
        assert_eq!(depth_within("{}", 4), Ok(1));
        assert_eq!(depth_within(r#"{"a": [1, {"b": 2}], "c": []}"#, 4), Ok(3));
    }

    #[test]
    fn the_limit_itself_passes_one_more_does_not() {
        assert_eq!(depth_within(&nested(32), 32), Ok(32));
        assert_eq!(depth_within(&nested(33), 32), Err(33));
        assert_eq!(depth_within(&nested(100_000), 32), Err(33));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        let s = format!(r#"{{"k": "{}", "e": "\"[[[\\"}}"#, "[".repeat(100));
        assert_eq!(depth_within(&s, 2), Ok(1));
    }

    #[test]
    fn siblings_do_not_add_up() {
        let s = format!("[{}]", vec![nested(3); 50].join(","));
        assert_eq!(depth_within(&s, 4), Ok(4));
    }
}
