//! A YAML writer for templates that every YAML reader agrees on.
//!
//! serde_yaml writes for YAML 1.2 and leaves strings such as `OFF`, `on` or `yes` unquoted;
//! YAML 1.1 readers, CloudFormation's and cfn-lint's among them, read those as booleans. So
//! every string is written double-quoted (a JSON string literal is a valid YAML double-quoted
//! scalar), and only plain identifier keys such as `Fn::GetAtt` stay unquoted.

use serde_json::Value;

/// The value as block-style YAML, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => {
            write_value(value, 0, &mut out);
            // The root mapping starts on the first line, not after a newline.
            out.remove(0);
        }
        Value::Array(items) if !items.is_empty() => {
            write_value(value, 0, &mut out);
            out.remove(0);
        }
        scalar => out.push_str(&scalar_text(scalar)),
    }
    out.push('\n');
    out
}

/// Writes `value` as the content after `key:` or `-`: nested collections go on the following
/// lines at `indent`, scalars on the same line after a space.
fn write_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                newline(indent, out);
                out.push_str(&key_text(key));
                out.push(':');
                write_value(v, indent + 2, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                newline(indent, out);
                out.push('-');
                let mut nested = String::new();
                write_value(item, indent + 2, &mut nested);
                // Compact form: the item's first line goes right after the dash
                // (`- Key: value`, `- - a`), its other lines keep their indentation.
                let first_line = format!("\n{}", " ".repeat(indent + 2));
                match nested.strip_prefix(&first_line) {
                    Some(rest) => {
                        out.push(' ');
                        out.push_str(rest);
                    }
                    None => out.push_str(&nested),
                }
            }
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
        }
    }
}

fn newline(indent: usize, out: &mut String) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Scalars (and empty collections) in flow form; strings always double-quoted.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// Keys stay plain when they are identifiers (optionally `::`-separated, as in `Fn::Sub`)
/// that no YAML reader takes for anything but a string; anything else is quoted.
fn key_text(key: &str) -> String {
    const WORDS: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "",
    ];
    let identifier = key.split("::").all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if identifier && !WORDS.contains(&key.to_ascii_lowercase().as_str()) {
        key.to_owned()
    } else {
        Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value, expected: &str) {
        assert_eq!(to_yaml(&value), expected);
        // And it reads back as the same value.
        let back: Value = serde_yaml::from_str(expected).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn strings_are_always_quoted() {
        check(
            json!({"A": "OFF", "B": "yes", "C": "123", "D": "", "E": "it's \"x\"\n", "F": 7, "G": true}),
            "A: \"OFF\"\nB: \"yes\"\nC: \"123\"\nD: \"\"\nE: \"it's \\\"x\\\"\\n\"\nF: 7\nG: true\n",
        );
    }

    #[test]
    fn keys_are_plain_only_when_unambiguous() {
        check(
            json!({"Fn::GetAtt": ["A", "Arn"], "On": 1, "aws:SecureTransport": "false", "$default": 2}),
            "Fn::GetAtt:\n  - \"A\"\n  - \"Arn\"\n\"On\": 1\n\"aws:SecureTransport\": \"false\"\n\"$default\": 2\n",
        );
    }

    #[test]
    fn nested_collections_use_the_compact_form() {
        check(
            json!({"S": [{"Sid": "a", "Action": ["x", "y"]}, [1, [2]], {}, []], "E": {}}),
            "S:\n  - Sid: \"a\"\n    Action:\n      - \"x\"\n      - \"y\"\n  - - 1\n    - - 2\n  - {}\n  - []\nE: {}\n",
        );
    }
}
