//! Dotted keys (`session.memory`) over TOML tables: reading, nesting and
//! merging the layers of the configuration.

/// The value at dotted `key` in `table`.
pub(super) fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// The environment variable for a dotted key: `image.name` → `CCY_IMAGE_NAME`.
#[must_use]
pub fn env_name(key: &str) -> String {
    format!("CCY_{}", key.replace('.', "_").to_ascii_uppercase())
}

pub(super) fn nest(key: &str, value: toml::Value) -> toml::Table {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut table = toml::Table::new();
    table.insert(last.to_owned(), value);
    for part in parts.into_iter().rev() {
        let mut outer = toml::Table::new();
        outer.insert(part.to_owned(), toml::Value::Table(table));
        table = outer;
    }
    table
}

pub(super) fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (k, v) in layer {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l)) => merge(b, l),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Dotted keys of the leaves of `table` (arrays are leaves).
pub(super) fn dotted_keys(table: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(t) => {
                out.extend(dotted_keys(t).into_iter().map(|sub| format!("{k}.{sub}")));
            }
            _ => out.push(k.clone()),
        }
    }
    out
}
