#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error as it is.

use super::*;
use crate::store::DatabaseTarget;
use figment::Jail;

fn load(jail: &Jail, file: Option<&str>) -> Result<Loaded, ConfigError> {
    let path = file.map(|f| jail.directory().join(f));
    Config::load_from(path.as_deref(), Some(&jail.directory().join("absent.yaml")))
}

#[test]
fn with_nothing_set_it_is_the_embedded_default_on_loopback() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let loaded = load(jail, None).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.server.host, "127.0.0.1");
        assert!(matches!(
            loaded.config.database_target("t").unwrap(),
            DatabaseTarget::Sqlite { .. }
        ));
        Ok(())
    });
}

#[test]
fn the_old_database_and_rabbitmq_blocks_are_accepted() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "config.yaml",
            "database:\n  host: db.local\n  port: 5433\n  user: restaurant_user\n  password: s3cret\n  database: restaurant_db\n\
             rabbitmq:\n  host: mq.local\n  port: 5672\n  user: guest\n  password: guest\n  vhost: /\n",
        )?;
        let loaded = load(jail, Some("config.yaml")).unwrap();
        match loaded.config.database_target("t").unwrap() {
            DatabaseTarget::Postgres { display, .. } => {
                assert_eq!(display, "db.local:5433/restaurant_db")
            }
            other => panic!("expected postgres, got {other:?}"),
        }
        assert_eq!(loaded.config.rabbitmq.vhost.as_deref(), Some("/"));
        let debug = format!("{:?}", loaded.config);
        assert!(
            !debug.contains("s3cret"),
            "secrets are redacted in Debug: {debug}"
        );
        Ok(())
    });
}

#[test]
fn environment_overrides_the_file_and_database_url_is_honoured() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "c.yaml",
            "server:\n  port: 4000\nkitchen:\n  cook_time:\n    dine_in: 8s\n",
        )?;
        jail.set_env("RESTAURANT_SERVER__PORT", "4100");
        jail.set_env("RESTAURANT_KITCHEN__COOK_TIME__DINE_IN", "250ms");
        jail.set_env("DATABASE_URL", "postgres://u:pw@h:5432/d");
        jail.set_env("RESTAURANT_UNRELATED", "ignored");
        let c = load(jail, Some("c.yaml")).unwrap().config;
        assert_eq!(c.server.port, 4100);
        assert_eq!(c.kitchen.cook_time.dine_in, Duration::from_millis(250));
        assert_eq!(c.database.url.as_deref(), Some("postgres://u:pw@h:5432/d"));
        Ok(())
    });
}

/// Secrets arrive from the file and the environment as `secrecy` strings, digits too, and a
/// printed configuration shows none of them.
#[test]
fn secrets_are_read_as_strings_and_never_printed() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("c.yaml", "rabbitmq:\n  host: mq\n  password: \"12345\"\n")?;
        jail.set_env("RESTAURANT_SERVER__TOKEN", "007654");
        jail.set_env("RESTAURANT_SERVER__PORT", "4100");
        jail.set_env("RESTAURANT_CONSOLE__BELL", "true");
        let c = load(jail, Some("c.yaml")).unwrap().config;
        assert_eq!(c.server.token.as_ref().map(Secret::expose), Some("007654"));
        assert_eq!(
            c.rabbitmq.password.as_ref().map(Secret::expose),
            Some("12345")
        );
        assert_eq!(c.server.port, 4100);
        assert!(c.console.bell);
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("7654") && !debug.contains("12345"),
            "{debug}"
        );

        // Unquoted, YAML reads digits as a number: refused, with the way out.
        jail.create_file("n.yaml", "rabbitmq:\n  password: 7\n")?;
        let e = load(jail, Some("n.yaml")).unwrap_err();
        assert!(e.origin.ends_with("n.yaml, line 2, column 3"), "{e:?}");
        assert_eq!(
            e.message,
            "rabbitmq.password: expected text, found 7 (put it in quotes)"
        );
        Ok(())
    });
}

#[test]
fn a_bad_value_names_the_file_and_the_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("bad.yaml", "server:\n  port: lots\n")?;
        let e = load(jail, Some("bad.yaml")).unwrap_err().to_string();
        assert!(e.contains("bad.yaml, line 2, column 3)"), "{e}");
        assert!(
            e.contains("server.port: expected a whole number from 0 to 65535, found \"lots\""),
            "{e}"
        );
        // Issue #11: no profile name, no Rust type.
        assert!(!e.contains("default.") && !e.contains("u16"), "{e}");
        Ok(())
    });
}

/// Issue #11: every kind of mistake says where it is and what was expected, in plain words.
#[test]
fn configuration_errors_name_the_line_and_column_in_plain_words() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let cases = [
            (
                "server:\n  port: 3000\n  host: [1\n",
                "line 4, column 1): YAML syntax: while parsing a flow sequence, expected ',' or ']'",
            ),
            (
                "kitchen:\n  cook_time:\n    takeout: fast\n",
                "line 3, column 5): kitchen.cook_time.takeout: expected a duration like 8s, 250ms or 1m30s, found \"fast\"",
            ),
            (
                "server:\n  port: 70000\n",
                "line 2, column 3): server.port: expected a whole number from 0 to 65535, found 70000",
            ),
            (
                "console:\n  bell: maybe\n",
                "line 2, column 3): console.bell: expected true or false, found \"maybe\"",
            ),
            (
                "console:\n  menu:\n    - {name: Soup, price: 4}\n    - {name: Cake, price: 1000}\n",
                "line 4, column 20): console.menu[1].price: must be between 0.01 and 999.99",
            ),
            (
                "server:\n  port: 3000\n  max_concurrent: 0\n",
                "line 3, column 3): server.max_concurrent: must be between 1 and 10000 (got 0)",
            ),
        ];
        for (yaml, said) in cases {
            jail.create_file("c.yaml", yaml)?;
            let e = load(jail, Some("c.yaml")).unwrap_err().to_string();
            assert!(e.contains(&format!("c.yaml, {said}")), "{yaml}\n{e}");
            assert!(!e.contains('`') && !e.contains("default."), "{e}");
        }
        jail.set_env("RESTAURANT_SERVER__PORT", "abc");
        let e = load(jail, None).unwrap_err().to_string();
        assert!(
            e.contains("(environment variable RESTAURANT_SERVER__PORT): server.port: expected a whole number"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn an_unknown_key_is_an_error_not_a_silent_typo() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("typo.yaml", "server:\n  prot: 3000\n")?;
        let e = load(jail, Some("typo.yaml")).unwrap_err().to_string();
        assert!(
            e.contains("typo.yaml, line 2, column 3): server.prot: unknown key \"prot\"; the keys here are: host, port,"),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn a_missing_explicit_file_is_an_error() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let e = load(jail, Some("nope.yaml")).unwrap_err().to_string();
        assert!(e.contains("nope.yaml"), "{e}");
        Ok(())
    });
}

#[test]
fn binding_beyond_loopback_needs_a_token() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("RESTAURANT_SERVER__HOST", "0.0.0.0");
        let e = load(jail, None).unwrap_err().to_string();
        assert!(e.contains("server.token"), "{e}");
        jail.set_env("RESTAURANT_SERVER__TOKEN", "t0ken");
        assert!(load(jail, None).is_ok());
        Ok(())
    });
}

#[test]
fn a_foreign_database_scheme_is_refused_without_showing_the_password() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("DATABASE_URL", "mysql://root:hunter2@h/d");
        let e = load(jail, None).unwrap_err().to_string();
        assert!(e.contains("database.url"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        Ok(())
    });
}

#[test]
fn the_example_file_in_the_repository_loads() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let example = include_str!("../config.example.yaml");
        jail.create_file("example.yaml", example)?;
        // Copied as it is, it keeps the embedded default (issue #11).
        let c = load(jail, Some("example.yaml")).unwrap().config;
        assert!(matches!(
            c.database_target("t").unwrap(),
            DatabaseTarget::Sqlite { .. }
        ));
        assert!(c.broker_target("t").unwrap().is_none());
        // Its commented blocks, uncommented, are a real deployment.
        let blocks = ["database:", "rabbitmq:", "workers:", "  "];
        let real: String = example
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if blocks.iter().any(|b| rest.starts_with(b)) => rest,
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        jail.create_file("real.yaml", &real)?;
        let c = load(jail, Some("real.yaml")).unwrap().config;
        assert_eq!(c.database.user.as_deref(), Some("restaurant_user"));
        assert!(matches!(
            c.database_target("t").unwrap(),
            DatabaseTarget::Postgres { .. }
        ));
        assert!(c.broker_target("t").unwrap().is_some());
        assert_eq!(c.workers.len(), 2);
        Ok(())
    });
}

#[test]
fn the_rabbitmq_block_becomes_a_url_with_a_heartbeat_and_no_password_in_sight() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "c.yaml",
            "rabbitmq:\n  host: mq\n  user: chef\n  password: p@ss/w\n  vhost: /\n  prefix: k1.\n",
        )?;
        let c = load(jail, Some("c.yaml")).unwrap().config;
        let t = c.broker_target("t").unwrap().unwrap();
        assert_eq!(t.uri, "amqp://chef:p%40ss%2Fw@mq:5672/%2F?heartbeat=10");
        assert_eq!(t.prefix, "k1.");
        assert!(!format!("{t:?}").contains("p%40ss"));
        // A prefix without its separator gets one (issue #11).
        jail.set_env("RESTAURANT_RABBITMQ__PREFIX", "eastside");
        let c = load(jail, Some("c.yaml")).unwrap().config;
        assert_eq!(c.broker_target("t").unwrap().unwrap().prefix, "eastside.");
        jail.set_env("RESTAURANT_RABBITMQ__PREFIX", "k1.");
        jail.set_env(
            "AMQP_URL",
            "amqp://guest:guest@localhost:5672/%2f?heartbeat=5",
        );
        let c = load(jail, Some("c.yaml")).unwrap().config;
        assert_eq!(
            c.broker_target("t").unwrap().unwrap().uri,
            "amqp://guest:guest@localhost:5672/%2f?heartbeat=5"
        );
        Ok(())
    });
}

#[test]
fn without_rabbitmq_the_broker_is_in_process() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        assert_eq!(
            load(jail, None).unwrap().config.broker_target("t").unwrap(),
            None
        );
        jail.set_env("AMQP_URL", "http://nope");
        assert!(
            load(jail, None)
                .unwrap_err()
                .to_string()
                .contains("rabbitmq.url")
        );
        Ok(())
    });
}

#[test]
fn the_console_menu_is_read_exactly_and_checked() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("m.yaml", "console:\n  targets:\n    takeout: {late: \"5:00\", very_late: \"7:30\"}\n  menu:\n    - {name: Soup, price: 4.20}\n    - {name: Bread, price: \"1.05\"}\n")?;
        let c = load(jail, Some("m.yaml")).unwrap().config;
        assert_eq!(c.console.menu[0].price.money().unwrap().to_string(), "4.20");
        assert_eq!(c.console.menu[1].price.money().unwrap().to_string(), "1.05");
        assert_eq!(c.console.targets.takeout.very_late.to_string(), "7:30");
        assert_eq!(c.console.targets.dine_in, TicketTargets::default().dine_in);
        jail.create_file("old.yaml", "console:\n  late_after: 1.5\n")?;
        let e = load(jail, Some("old.yaml")).unwrap_err().to_string();
        assert!(e.contains("console.targets"), "{e}");
        jail.create_file(
            "t.yaml",
            "console:\n  targets:\n    window: {late: \"2:00\", very_late: \"1:00\"}\n",
        )?;
        let e = load(jail, Some("t.yaml")).unwrap_err().to_string();
        assert!(e.contains("console.targets.window"), "{e}");
        jail.create_file(
            "bad.yaml",
            "console:\n  menu:\n    - {name: Soup, price: 4.205}\n",
        )?;
        let e = load(jail, Some("bad.yaml")).unwrap_err().to_string();
        assert!(e.contains("console.menu[0].price"), "{e}");
        Ok(())
    });
}

#[test]
fn every_number_is_bounded_with_its_key_before_anything_opens() {
    let mut c = Config::default();
    c.server.max_concurrent = usize::MAX;
    let e = c.check("command line").unwrap_err();
    assert!(e.to_string().contains("server.max_concurrent"), "{e}");
    let mut c = Config::default();
    c.kitchen.cook_time.dine_in = Duration::from_secs(u64::MAX);
    let e = c.check("command line").unwrap_err();
    assert!(e.to_string().contains("kitchen.cook_time.dine_in"), "{e}");
    let mut c = Config::default();
    c.console.station = "x".repeat(65);
    assert!(c.check("t").is_err());
    let mut c = Config::default();
    c.database.max_connections = Some(0);
    assert!(
        c.check("t")
            .unwrap_err()
            .to_string()
            .contains("database.max_connections")
    );
    assert!(Config::default().check("t").is_ok());
}

/// Issue #11: `server.host` (and `--host`) takes a host name; the token rule looks at every
/// address it resolves to.
#[test]
fn a_host_name_is_accepted_and_judged_by_its_addresses() {
    let mut config = Config::default();
    config.server.host = "localhost".into();
    config.check("command line").unwrap();
    config.server.host = "::1".into();
    config.check("command line").unwrap();
    config.server.host = "no-such-host.invalid".into();
    let e = config.check("command line").unwrap_err().to_string();
    assert!(
        e.contains("server.host") && e.contains("no-such-host.invalid"),
        "{e}"
    );
    config.server.host = "0.0.0.0".into();
    let e = config.check("command line").unwrap_err().to_string();
    assert!(e.contains("server.token"), "{e}");
}

/// CONTRACT §8: a `workers:` list, checked before anything starts.
#[test]
fn the_workers_list_is_read_and_checked() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "w.yaml",
            "workers:\n  - name: chef_mario\n    order_types: [dine_in, takeout]\n    prefetch: 2\n  - name: chef_luigi\n",
        )?;
        let loaded = load(jail, Some("w.yaml")).unwrap();
        let w = &loaded.config.workers;
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].prefetch, 2);
        assert_eq!(w[0].specialty().unwrap().to_string(), "dine_in,takeout");
        assert_eq!(w[1].prefetch, 1);
        assert_eq!(
            w[1].specialty().unwrap(),
            crate::domain::Specialty::general()
        );
        for (yaml, said) in [
            (
                "workers:\n  - name: chef_mario\n    order_types: [pizza]\n",
                "line 3, column 5): workers[0].order_types: ",
            ),
            (
                "workers:\n  - name: chef_mario\n  - name: chef_mario\n",
                "line 3, column 5): workers[1].name: \"chef_mario\" is listed twice",
            ),
            (
                "workers:\n  - name: chef_mario\n    prefetch: 0\n",
                "line 3, column 5): workers[0].prefetch: must be between 1 and 1000",
            ),
            (
                "workers:\n  - name: chef_mario\n    burners: 2\n",
                "workers[0].burners: unknown key \"burners\"",
            ),
        ] {
            jail.create_file("w.yaml", yaml)?;
            let e = load(jail, Some("w.yaml")).unwrap_err().to_string();
            assert!(e.contains(said), "{yaml}\n{e}");
        }
        Ok(())
    });
}

/// Issue #11: `--cook-time` in plain words, no parser internals.
#[test]
fn a_bad_cook_time_is_said_in_plain_words() {
    let mut times = CookTimes::default();
    let e = times.set_from("dine_in=fast").unwrap_err();
    assert_eq!(e, "dine_in=\"fast\" needs a duration like 8s or 250ms");
    let e = times.set_from("pizza=8s").unwrap_err();
    assert!(e.contains("use dine_in, takeout or delivery"), "{e}");
    let e = times.set_from("8s").unwrap_err();
    assert!(e.contains("TYPE=DURATION"), "{e}");
    times.set_from("dine_in=250ms, takeout=0s").unwrap();
    assert_eq!(times.dine_in, Duration::from_millis(250));
    assert_eq!(times.takeout, Duration::ZERO);
}
