//! The `RESTAURANT_*` layer. figment's `Env` parses each value, so `RESTAURANT_SERVER__TOKEN=007`
//! would arrive as the number 7: a token or a station name silently changed. Here every value
//! stays the text it was; the configuration is extracted lossily, so a field that wants a number
//! or a boolean (`RESTAURANT_SERVER__PORT=4100`) still gets one.

use figment::providers::Env;
use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};

pub struct TextEnv(pub Env);

impl Provider for TextEnv {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut dict = Dict::new();
        for (key, value) in self.0.iter() {
            if let Value::Dict(_, nested) = figment::util::nest(key.as_str(), Value::from(value)) {
                merge(&mut dict, nested);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// `server.port` and `server.token` land in one `server` block.
fn merge(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, old)), Value::Dict(_, new)) => merge(old, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}
