use super::*;
use crate::domain::priority_for;
use proptest::prelude::*;

fn item(name: &str, quantity: i64, price: &str) -> Field<ItemDraft> {
    Field::Given(ItemDraft {
        name: Field::Given(name.into()),
        quantity: Field::Given(quantity),
        price: Field::Given(price.into()),
        notes: Field::Absent,
    })
}

fn takeout(items: Vec<Field<ItemDraft>>) -> OrderDraft {
    OrderDraft {
        customer_name: Field::Given("Ann".into()),
        order_type: Field::Given("takeout".into()),
        items: Field::Given(items),
        ..OrderDraft::default()
    }
}

fn dine_in(table: Field<i64>) -> OrderDraft {
    OrderDraft {
        order_type: Field::Given("dine_in".into()),
        table_number: table,
        ..takeout(vec![item("Pizza", 1, "10")])
    }
}

fn delivery(address: Field<String>) -> OrderDraft {
    OrderDraft {
        order_type: Field::Given("delivery".into()),
        delivery_address: address,
        ..takeout(vec![item("Pizza", 1, "10")])
    }
}

fn fields(draft: &OrderDraft) -> Vec<String> {
    match validate(draft) {
        Ok(_) => vec![],
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

fn with_name(name: &str) -> OrderDraft {
    OrderDraft {
        customer_name: Field::Given(name.into()),
        ..takeout(vec![item("Pizza", 1, "10")])
    }
}

#[test]
fn notes_are_optional_trimmed_bounded_and_without_control_characters() {
    let mut d = takeout(vec![Field::Given(ItemDraft {
        notes: Field::Given("  no basil ".into()),
        ..ItemDraft::default()
    })]);
    if let Field::Given(items) = &mut d.items
        && let Some(Field::Given(first)) = items.first_mut()
    {
        first.name = Field::Given("Pizza".into());
        first.quantity = Field::Given(1);
        first.price = Field::Given("10".into());
    }
    d.notes = Field::Given("ring twice".into());
    let order = validate(&d).unwrap();
    assert_eq!(order.notes.as_deref(), Some("ring twice"));
    assert_eq!(order.items[0].notes.as_deref(), Some("no basil"));
    d.notes = Field::Given("   ".into());
    assert_eq!(validate(&d).unwrap().notes, None, "blank is none");
    d.notes = Field::Given("x".repeat(201));
    assert_eq!(fields(&d), ["notes"]);
    d.notes = Field::Given("a\u{0}b".into());
    assert_eq!(fields(&d), ["notes"]);
    d.notes = Field::Wrong("must be a string");
    assert_eq!(fields(&d), ["notes"]);
    d.notes = Field::Given("é".repeat(200));
    assert!(validate(&d).is_ok(), "200 characters, not bytes");
}

#[test]
fn a_plain_takeout_order_is_valid() {
    let order = validate(&takeout(vec![item("Pizza", 2, "12.50")])).unwrap();
    assert_eq!(order.total(), Money::from_cents(2500));
    assert_eq!(order.priority(), 1);
}

#[test]
fn an_empty_draft_reports_every_required_field_at_once() {
    assert_eq!(
        fields(&OrderDraft::default()),
        ["customer_name", "order_type", "items"]
    );
}

#[test]
fn customer_names_follow_the_letter_rules() {
    for ok in [
        "Ann",
        "Jean-Luc Picard",
        "O'Brien",
        "O’Brien",
        "Zoë",
        "Zoe\u{0308}",
        "Владимир",
        "李小龍",
        "नमस्ते",
        "  padded  ",
    ] {
        assert_eq!(fields(&with_name(ok)), Vec::<String>::new(), "{ok:?}");
    }
    for bad in ["R2D2", "Ann!", "a_b", "Ann\tLee", "", "   ", "<script>"] {
        assert_eq!(fields(&with_name(bad)), ["customer_name"], "{bad:?}");
    }
}

#[test]
fn customer_name_length_is_counted_in_characters_after_trimming() {
    assert!(fields(&with_name(&"é".repeat(100))).is_empty());
    assert_eq!(fields(&with_name(&"é".repeat(101))), ["customer_name"]);
    assert!(fields(&with_name(&format!("  {}  ", "a".repeat(100)))).is_empty());
}

#[test]
fn order_type_must_be_one_of_three() {
    let mut d = takeout(vec![item("Pizza", 1, "10")]);
    d.order_type = Field::Given("pickup".into());
    assert_eq!(fields(&d), ["order_type"]);
    d.order_type = Field::Wrong("must be a string");
    assert_eq!(fields(&d), ["order_type"]);
}

#[test]
fn dine_in_needs_a_table_from_1_to_100() {
    assert!(fields(&dine_in(Field::Given(1))).is_empty());
    assert!(fields(&dine_in(Field::Given(100))).is_empty());
    for bad in [0, 101, -1, i64::MAX] {
        assert_eq!(
            fields(&dine_in(Field::Given(bad))),
            ["table_number"],
            "{bad}"
        );
    }
    assert_eq!(fields(&dine_in(Field::Absent)), ["table_number"]);
    assert_eq!(
        fields(&dine_in(Field::Wrong("must be an integer"))),
        ["table_number"]
    );
}

#[test]
fn dine_in_refuses_an_address() {
    let mut d = dine_in(Field::Given(5));
    d.delivery_address = Field::Given("1 Long Street, Town".into());
    assert_eq!(fields(&d), ["delivery_address"]);
}

#[test]
fn takeout_refuses_table_and_address() {
    let mut d = takeout(vec![item("Pizza", 1, "10")]);
    d.table_number = Field::Given(3);
    d.delivery_address = Field::Given("1 Long Street, Town".into());
    assert_eq!(fields(&d), ["table_number", "delivery_address"]);
    // A field of the wrong kind is still a field that is present.
    d.table_number = Field::Wrong("must be an integer");
    d.delivery_address = Field::Absent;
    assert_eq!(fields(&d), ["table_number"]);
}

#[test]
fn delivery_needs_an_address_of_ten_characters() {
    assert!(fields(&delivery(Field::Given("1234567890".into()))).is_empty());
    assert_eq!(
        fields(&delivery(Field::Given("123456789".into()))),
        ["delivery_address"]
    );
    assert_eq!(
        fields(&delivery(Field::Given("  123456789  ".into()))),
        ["delivery_address"]
    );
    assert_eq!(
        fields(&delivery(Field::Given("ääääääääää".into()))),
        Vec::<String>::new()
    );
    assert_eq!(fields(&delivery(Field::Absent)), ["delivery_address"]);
    let mut d = delivery(Field::Given("1 Long Street, Town".into()));
    d.table_number = Field::Given(2);
    assert_eq!(fields(&d), ["table_number"]);
}

#[test]
fn items_must_number_1_to_20() {
    assert_eq!(fields(&takeout(vec![])), ["items"]);
    assert!(
        fields(&takeout(
            (0..20).map(|i| item(&format!("i{i}"), 1, "1")).collect()
        ))
        .is_empty()
    );
    assert_eq!(
        fields(&takeout(
            (0..21).map(|i| item(&format!("i{i}"), 1, "1")).collect()
        )),
        ["items"]
    );
    let mut d = takeout(vec![]);
    d.items = Field::Wrong("must be an array");
    assert_eq!(fields(&d), ["items"]);
}

#[test]
fn every_bad_item_field_is_named_by_its_path() {
    let d = takeout(vec![
        item("Pizza", 1, "10"),
        item("", 0, "0"),
        Field::Given(ItemDraft::default()),
        Field::Wrong("must be an object"),
    ]);
    assert_eq!(
        fields(&d),
        [
            "items[1].name",
            "items[1].quantity",
            "items[1].price",
            "items[2].name",
            "items[2].quantity",
            "items[2].price",
            "items[3]",
        ]
    );
}

#[test]
fn item_names_are_1_to_50_characters() {
    assert!(fields(&takeout(vec![item(&"ü".repeat(50), 1, "1")])).is_empty());
    assert_eq!(
        fields(&takeout(vec![item(&"ü".repeat(51), 1, "1")])),
        ["items[0].name"]
    );
    assert_eq!(
        fields(&takeout(vec![item("   ", 1, "1")])),
        ["items[0].name"]
    );
}

#[test]
fn quantities_are_1_to_10() {
    for ok in [1, 10] {
        assert!(fields(&takeout(vec![item("P", ok, "1")])).is_empty());
    }
    for bad in [0, 11, -3] {
        assert_eq!(
            fields(&takeout(vec![item("P", bad, "1")])),
            ["items[0].quantity"]
        );
    }
}

#[test]
fn prices_are_0_01_to_999_99_with_two_decimals() {
    for ok in ["0.01", "999.99", "1.500", "5", "1e2"] {
        assert!(fields(&takeout(vec![item("P", 1, ok)])).is_empty(), "{ok}");
    }
    for bad in ["0", "0.00", "1000", "999.991", "1.005", "-1", "0.001"] {
        assert_eq!(
            fields(&takeout(vec![item("P", 1, bad)])),
            ["items[0].price"],
            "{bad}"
        );
    }
}

#[test]
fn duplicate_items_may_not_exceed_ten_together() {
    let ok = takeout(vec![item("Pizza", 5, "10"), item(" pizza ", 5, "10")]);
    assert!(fields(&ok).is_empty());
    let too_many = takeout(vec![item("Pizza", 6, "10"), item("PIZZA", 5, "10")]);
    let errors = validate(&too_many).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "items");
    assert!(errors[0].message.contains("Pizza"), "{}", errors[0].message);
}

#[test]
fn totals_are_exact() {
    let d = takeout(vec![
        item("a", 1, "0.10"),
        item("b", 1, "0.10"),
        item("c", 1, "0.10"),
        item("d", 1, "0.20"),
    ]);
    assert_eq!(validate(&d).unwrap().total().to_string(), "0.50");
}

#[test]
fn priority_reads_the_exact_total() {
    let p = |price: &str| {
        validate(&takeout(vec![item("P", 1, price)]))
            .unwrap()
            .priority()
    };
    assert_eq!(p("49.99"), 1);
    assert_eq!(p("50.00"), 5);
    assert_eq!(p("100.00"), 5);
    assert_eq!(p("100.01"), 10);
}

#[test]
fn names_and_addresses_are_stored_trimmed() {
    let mut d = delivery(Field::Given("  12 Baker Street  ".into()));
    d.customer_name = Field::Given("  Ann Lee ".into());
    let order = validate(&d).unwrap();
    assert_eq!(order.customer_name, "Ann Lee");
    assert_eq!(
        order.destination.delivery_address(),
        Some("12 Baker Street")
    );
}

fn price_cents() -> impl Strategy<Value = i64> {
    1i64..=99_999
}

proptest! {
    #[test]
    fn any_valid_item_list_totals_to_the_exact_sum_of_cents(
        lines in prop::collection::vec((price_cents(), 1i64..=10), 1..=20)
    ) {
        let items = lines.iter().enumerate()
            .map(|(i, (c, q))| item(&format!("item {i}"), *q, &format!("{}.{:02}", c / 100, c % 100)))
            .collect();
        let order = validate(&takeout(items)).unwrap();
        let cents: i64 = lines.iter().map(|(c, q)| c * q).sum();
        prop_assert_eq!(order.total(), Money::from_cents(cents));
        prop_assert_eq!(order.priority(), priority_for(Money::from_cents(cents)));
    }

    #[test]
    fn priority_never_falls_as_the_total_grows(a in 0i64..1_000_000, b in 0i64..1_000_000) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(priority_for(Money::from_cents(lo)) <= priority_for(Money::from_cents(hi)));
    }

    #[test]
    fn validation_never_panics_on_arbitrary_text(
        name in ".*", kind in ".*", address in ".*", item_name in ".*",
        price in ".*", qty in any::<i64>(), table in any::<i64>(), notes in ".*"
    ) {
        let d = OrderDraft {
            customer_name: Field::Given(name),
            order_type: Field::Given(kind),
            table_number: Field::Given(table),
            delivery_address: Field::Given(address),
            items: Field::Given(vec![item(&item_name, qty, &price)]),
            notes: Field::Given(notes),
        };
        let _ = validate(&d);
    }

    #[test]
    fn a_price_with_three_significant_decimals_is_always_refused(cents in 0i64..99_999, digit in 1i64..=9) {
        let text = format!("{}.{:02}{}", cents / 100, cents % 100, digit);
        prop_assert_eq!(fields(&takeout(vec![item("P", 1, &text)])), ["items[0].price"]);
    }
}

#[test]
fn a_nul_character_is_refused_in_every_text_field() {
    let mut d = delivery(Field::Given("12 Baker\0 Street, London".into()));
    d.customer_name = Field::Given("Ann\0".into());
    d.items = Field::Given(vec![item("Pizza\0", 1, "10")]);
    let errors = validate(&d).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["customer_name", "delivery_address", "items[0].name"]
    );
    assert!(errors.iter().all(|e| e.message.contains("NUL")));
}
