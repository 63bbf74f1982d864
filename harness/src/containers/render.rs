//! Configuration templates: files in `containers/<server>/` with `{{NAME}}` markers that
//! the harness fills per scenario. A marker left unfilled is an error before the server is
//! ever started, not a server that fails in a way nobody can read.

use std::collections::BTreeMap;

/// Fills every `{{NAME}}` of `template` from `values`.
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a `{{` without its `}}`".to_owned())?;
        let name = after[..end].trim();
        let value = values
            .get(name)
            .ok_or_else(|| format!("no value for the template marker {{{{{name}}}}}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_markers_and_refuses_unknown_ones() {
        let values = BTreeMap::from([("PORT", "10143".to_owned()), ("SSL", "yes".to_owned())]);
        assert_eq!(
            render("port = {{PORT}}\nssl = {{ SSL }}\n", &values).unwrap(),
            "port = 10143\nssl = yes\n"
        );
        assert!(
            render("x = {{MISSING}}", &values)
                .unwrap_err()
                .contains("MISSING")
        );
        assert!(render("x = {{PORT", &values).is_err());
        assert_eq!(render("no markers", &values).unwrap(), "no markers");
    }
}
