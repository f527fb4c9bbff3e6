//! The store port's contract, run unchanged on both adapters: the embedded SQLite store
//! and DynamoDB (DynamoDB Local under scripts/test.sh). A test left out of the list is
//! dead code, which is an error here.
#![deny(dead_code)]

mod support;

use std::sync::Arc;

use roster::ports::{Attr, Condition, IndexName, Item, Key, ManualClock, Query, Store, StoreError, TxOp, Update};
use support::{fresh_store, StoreKind, T0};

struct Fixture {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn fixture(kind: StoreKind) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::starting_at_secs(T0));
    let store = fresh_store(kind, clock.clone(), dir.path()).await;
    Fixture {
        store,
        clock,
        _dir: dir,
    }
}

fn item(pk: &str, sk: &str) -> Item {
    Item::new(Key::new(pk, sk))
}

async fn a_conditional_put_fails_on_an_existing_item_and_changes_nothing(f: Fixture) {
    f.store
        .put(item("A", "1").with_s("v", "first"), Some(Condition::NotExists))
        .await
        .unwrap();
    let err = f
        .store
        .put(item("A", "1").with_s("v", "second"), Some(Condition::NotExists))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    let stored = f.store.get(&Key::new("A", "1")).await.unwrap().unwrap();
    assert_eq!(stored.s("v"), Some("first"));
}

async fn a_transaction_is_all_or_nothing_and_names_the_failed_condition(f: Fixture) {
    f.store.put(item("T", "taken"), None).await.unwrap();
    let err = f
        .store
        .transact_write(vec![
            TxOp::Put {
                item: item("T", "new1").with_n("n", 1),
                condition: Some(Condition::NotExists),
            },
            TxOp::Update {
                key: Key::new("T", "counter"),
                updates: vec![Update::add("n", 5)],
                condition: None,
            },
            TxOp::Put {
                item: item("T", "taken").with_n("n", 3),
                condition: Some(Condition::NotExists),
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TxConditionFailed { index: 2 }), "{err:?}");
    assert!(f.store.get(&Key::new("T", "new1")).await.unwrap().is_none());
    assert!(f.store.get(&Key::new("T", "counter")).await.unwrap().is_none());
    assert_eq!(
        f.store.get(&Key::new("T", "taken")).await.unwrap().unwrap().n("n"),
        None
    );

    f.store
        .transact_write(vec![
            TxOp::Put {
                item: item("T", "new1"),
                condition: Some(Condition::NotExists),
            },
            TxOp::Delete {
                key: Key::new("T", "taken"),
                condition: Some(Condition::Exists),
            },
            TxOp::Check {
                key: Key::new("T", "absent"),
                condition: Condition::NotExists,
            },
        ])
        .await
        .unwrap();
    assert!(f.store.get(&Key::new("T", "new1")).await.unwrap().is_some());
    assert!(f.store.get(&Key::new("T", "taken")).await.unwrap().is_none());
}

async fn an_atomic_counter_stops_at_its_upper_bound(f: Fixture) {
    let key = Key::new("C", "count");
    let bounded = || Some(Condition::AbsentOrLessThan("n".into(), 3));
    for expected in 1..=3 {
        let it = f
            .store
            .update(&key, vec![Update::add("n", 1)], bounded())
            .await
            .unwrap();
        assert_eq!(it.n("n"), Some(expected));
    }
    let err = f
        .store
        .update(&key, vec![Update::add("n", 1)], bounded())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed));
    assert_eq!(f.store.get(&key).await.unwrap().unwrap().n("n"), Some(3));
}

async fn concurrent_increments_are_all_counted_and_never_pass_the_bound(f: Fixture) {
    let key = Key::new("C", "race");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, key) = (f.store.clone(), key.clone());
            tokio::spawn(async move {
                store
                    .update(
                        &key,
                        vec![Update::add("n", 1)],
                        Some(Condition::AbsentOrLessThan("n".into(), 12)),
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::ConditionFailed) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok, 12);
    assert_eq!(f.store.get(&key).await.unwrap().unwrap().n("n"), Some(12));
}

async fn of_concurrent_conditional_puts_exactly_one_wins(f: Fixture) {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move {
                store
                    .put(item("U", "marker").with_n("by", i), Some(Condition::NotExists))
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

async fn a_query_pages_by_cursor_and_returns_every_item_exactly_once(f: Fixture) {
    for i in 0..23 {
        f.store
            .put(item("Q", &format!("REL#{i:03}")).with_n("i", i), None)
            .await
            .unwrap();
    }
    f.store.put(item("Q", "OTHER#1"), None).await.unwrap();
    f.store.put(item("Q", "REK#1"), None).await.unwrap();
    f.store.put(item("Q2", "REL#999"), None).await.unwrap();
    for ascending in [true, false] {
        let mut seen = vec![];
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let mut q = Query::partition("Q").begins_with("REL#").limit(5).after(cursor.clone());
            if !ascending {
                q = q.descending();
            }
            let page = f.store.query(q).await.unwrap();
            seen.extend(page.items.iter().map(|i| i.n("i").unwrap()));
            pages += 1;
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
            assert!(pages < 20, "cursor never ends");
        }
        let mut expected: Vec<i64> = (0..23).collect();
        if !ascending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "ascending={ascending}");
    }
}

async fn the_inverted_index_finds_items_by_their_index_key(f: Fixture) {
    for who in ["alice", "bob", "carol"] {
        f.store
            .put(
                item(&format!("USER#{who}"), "FOLLOWS#dave").indexed_as(Key::new("FOLLOWED#dave", who)),
                None,
            )
            .await
            .unwrap();
    }
    f.store
        .put(
            item("USER#erin", "FOLLOWS#frank").indexed_as(Key::new("FOLLOWED#frank", "erin")),
            None,
        )
        .await
        .unwrap();
    // Index reads are eventually consistent on DynamoDB; Local applies them at once.
    let mut fans = vec![];
    let mut cursor = None;
    loop {
        let page = f
            .store
            .query(
                Query::partition("FOLLOWED#dave")
                    .on(IndexName::Inverted)
                    .limit(2)
                    .after(cursor),
            )
            .await
            .unwrap();
        fans.extend(page.items.iter().map(|i| i.key.pk.clone()));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(fans, vec!["USER#alice", "USER#bob", "USER#carol"]);
}

async fn an_item_past_its_expiry_reads_as_absent_while_still_stored(f: Fixture) {
    f.store
        .put(item("E", "soon").expiring_at(T0 + 60).with_s("v", "x"), None)
        .await
        .unwrap();
    f.store
        .put(item("E", "later").expiring_at(T0 + 600), None)
        .await
        .unwrap();
    assert!(f.store.get(&Key::new("E", "soon")).await.unwrap().is_some());
    f.clock.advance_secs(60);
    assert!(f.store.get(&Key::new("E", "soon")).await.unwrap().is_none());
    let batch = f
        .store
        .batch_get(&[Key::new("E", "soon"), Key::new("E", "later")])
        .await
        .unwrap();
    assert!(batch[0].is_none() && batch[1].is_some());
    let page = f.store.query(Query::partition("E")).await.unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(),
        vec!["later"]
    );
    // Conditions see it as absent too: it can be replaced as new, and is not "existing".
    let err = f
        .store
        .update(
            &Key::new("E", "soon"),
            vec![Update::add("n", 1)],
            Some(Condition::Exists),
        )
        .await;
    assert!(matches!(err, Err(StoreError::ConditionFailed)));
    f.store
        .put(item("E", "soon").with_s("v", "fresh"), Some(Condition::NotExists))
        .await
        .unwrap();
    assert_eq!(
        f.store.get(&Key::new("E", "soon")).await.unwrap().unwrap().s("v"),
        Some("fresh")
    );
}

async fn batch_get_returns_items_in_key_order_with_gaps(f: Fixture) {
    for i in 0..30 {
        f.store
            .put(item(&format!("B{i}"), "x").with_n("i", i), None)
            .await
            .unwrap();
    }
    let keys: Vec<Key> = (0..35).rev().map(|i| Key::new(format!("B{i}"), "x")).collect();
    let got = f.store.batch_get(&keys).await.unwrap();
    assert_eq!(got.len(), 35);
    for (k, g) in keys.iter().zip(&got) {
        let i: i64 = k.pk[1..].parse().unwrap();
        assert_eq!(g.as_ref().and_then(|it| it.n("i")), (i < 30).then_some(i), "{k:?}");
    }
}

async fn updates_set_add_and_remove_and_conditions_compare_values(f: Fixture) {
    let key = Key::new("UPD", "1");
    f.store
        .put(
            item("UPD", "1")
                .with_s("state", "open")
                .with_n("n", 1)
                .with_s("gone", "x"),
            None,
        )
        .await
        .unwrap();
    let it = f
        .store
        .update(
            &key,
            vec![
                Update::set("state", Attr::S("closed".into())),
                Update::add("n", 4),
                Update::Remove("gone".into()),
            ],
            Some(Condition::eq("state", Attr::S("open".into()))),
        )
        .await
        .unwrap();
    assert_eq!(
        (it.s("state"), it.n("n"), it.s("gone")),
        (Some("closed"), Some(5), None)
    );
    let err = f
        .store
        .update(
            &key,
            vec![Update::set("state", Attr::S("x".into()))],
            Some(Condition::eq("state", Attr::S("open".into()))),
        )
        .await;
    assert!(matches!(err, Err(StoreError::ConditionFailed)));
    let old = f
        .store
        .delete(&key, Some(Condition::eq("state", Attr::S("closed".into()))))
        .await
        .unwrap();
    assert_eq!(old.and_then(|o| o.n("n")), Some(5));
    assert!(f.store.get(&key).await.unwrap().is_none());
}

async fn a_failed_conditional_delete_keeps_the_item(f: Fixture) {
    f.store.put(item("D", "1").with_s("owner", "a"), None).await.unwrap();
    let err = f
        .store
        .delete(&Key::new("D", "1"), Some(Condition::eq("owner", Attr::S("b".into()))))
        .await;
    assert!(matches!(err, Err(StoreError::ConditionFailed)));
    assert!(f.store.get(&Key::new("D", "1")).await.unwrap().is_some());
}

async fn reserved_attribute_names_are_refused(f: Fixture) {
    let err = f.store.put(item("R", "1").with_s("pk", "x"), None).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
}

/// Sort keys of a change log: zero-padded, so byte order is numeric order.
fn seq(n: u32) -> String {
    format!("CHG#{n:05}")
}

async fn sort_key_ranges_read_after_a_key_and_between_two_keys(f: Fixture) {
    let ops = (1..=12)
        .map(|n| TxOp::Put {
            item: item("LOG", &seq(n)).with_n("n", n as i64),
            condition: None,
        })
        .chain(std::iter::once(TxOp::Put {
            item: item("LOG", "HEAD"),
            condition: None,
        }))
        .collect();
    f.store.transact_write(ops).await.unwrap();
    let numbers = |items: &[Item]| items.iter().filter_map(|i| i.n("n")).collect::<Vec<_>>();

    // After a key, paged: every later change once, in order, and nothing else.
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let page = f
            .store
            .query(Query::partition("LOG").sk_after(seq(7)).limit(2).after(cursor))
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.key.sk.clone()));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    // `HEAD` sorts after `CHG#…` too: a range is a range of bytes, not of a prefix.
    let expected: Vec<String> = (8..=12).map(seq).chain(["HEAD".to_string()]).collect();
    assert_eq!(seen, expected);
    let after_last = f.store.query(Query::partition("LOG").sk_after(seq(12))).await.unwrap();
    assert_eq!(after_last.items.len(), 1, "only HEAD follows the last change");
    assert_eq!(after_last.items[0].key.sk, "HEAD");

    // Between two keys, both included, in both directions.
    let window = f
        .store
        .query(Query::partition("LOG").sk_between(seq(3), seq(6)))
        .await
        .unwrap();
    assert_eq!(numbers(&window.items), vec![3, 4, 5, 6]);
    let backwards = f
        .store
        .query(Query::partition("LOG").sk_between(seq(3), seq(6)).descending().limit(3))
        .await
        .unwrap();
    assert_eq!(numbers(&backwards.items), vec![6, 5, 4]);
    let rest = f
        .store
        .query(
            Query::partition("LOG")
                .sk_between(seq(3), seq(6))
                .descending()
                .after(backwards.cursor),
        )
        .await
        .unwrap();
    assert_eq!(numbers(&rest.items), vec![3]);
    let empty = f
        .store
        .query(Query::partition("LOG").sk_between(seq(20), seq(30)))
        .await
        .unwrap();
    assert!(empty.items.is_empty() && empty.cursor.is_none());
}

async fn a_repeated_key_in_a_batch_get_is_answered_at_each_position(f: Fixture) {
    f.store.put(item("B", "a").with_s("v", "a"), None).await.unwrap();
    f.store.put(item("B", "b").with_s("v", "b"), None).await.unwrap();
    let (a, b, gone) = (Key::new("B", "a"), Key::new("B", "b"), Key::new("B", "gone"));
    let keys = [a.clone(), b.clone(), gone.clone(), a.clone(), gone, b.clone(), a];
    let got = f.store.batch_get(&keys).await.unwrap();
    let values: Vec<Option<&str>> = got.iter().map(|i| i.as_ref().and_then(|i| i.s("v"))).collect();
    assert_eq!(
        values,
        vec![Some("a"), Some("b"), None, Some("a"), None, Some("b"), Some("a")]
    );
    // The limit counts distinct keys: 150 keys naming 100 items are one batch ...
    let hundred: Vec<Key> = (0..100).map(|i| Key::new("B", format!("k{i:03}"))).collect();
    let mut keys = hundred.clone();
    keys.extend(hundred[..50].iter().cloned());
    assert_eq!(f.store.batch_get(&keys).await.unwrap().len(), 150);
    // ... and 101 distinct keys are refused on both stores.
    keys.push(Key::new("B", "k100"));
    assert!(matches!(f.store.batch_get(&keys).await, Err(StoreError::Invalid(_))));
    assert!(f.store.batch_get(&[]).await.unwrap().is_empty());
}

async fn query_page_limits_clamp_the_same_on_both_stores(f: Fixture) {
    let total = roster::ports::store::MAX_PAGE_ITEMS + 5;
    let keys: Vec<String> = (0..total).map(|i| format!("{i:05}")).collect();
    for chunk in keys.chunks(100) {
        let ops = chunk
            .iter()
            .map(|sk| TxOp::Put {
                item: item("PAGE", sk),
                condition: None,
            })
            .collect();
        f.store.transact_write(ops).await.unwrap();
    }
    // A limit of 0 reads one item, and says more follow.
    let one = f.store.query(Query::partition("PAGE").limit(0)).await.unwrap();
    assert_eq!(one.items.len(), 1);
    assert!(one.cursor.is_some());
    // A limit past the maximum reads the maximum.
    let big = f.store.query(Query::partition("PAGE").limit(1_000_000)).await.unwrap();
    assert_eq!(big.items.len(), roster::ports::store::MAX_PAGE_ITEMS);
    let rest = f
        .store
        .query(Query::partition("PAGE").limit(1_000_000).after(big.cursor))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 5);
    assert!(rest.cursor.is_none());
}

async fn a_condition_of_one_part_or_nested_parts_is_evaluated_alike(f: Fixture) {
    f.store.put(item("C", "1").with_n("n", 3), None).await.unwrap();
    let lone = Condition::And(vec![Condition::AbsentOrLessThan("n".into(), 5)]);
    f.store
        .update(&Key::new("C", "1"), vec![Update::add("n", 1)], Some(lone))
        .await
        .unwrap();
    let nested = Condition::And(vec![Condition::Or(vec![Condition::And(vec![Condition::eq(
        "n",
        Attr::N(4),
    )])])]);
    f.store
        .update(&Key::new("C", "1"), vec![Update::add("n", 1)], Some(nested))
        .await
        .unwrap();
    let failing = Condition::And(vec![Condition::AbsentOrLessThan("n".into(), 5)]);
    let err = f
        .store
        .update(&Key::new("C", "1"), vec![Update::add("n", 1)], Some(failing))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    assert_eq!(f.store.get(&Key::new("C", "1")).await.unwrap().unwrap().n("n"), Some(5));
}

async fn a_transactional_read_sees_each_transaction_whole(f: Fixture) {
    let keys = [
        Key::new("TG", "a"),
        Key::new("TG", "b"),
        Key::new("TG", "a"),
        Key::new("TG", "none"),
    ];
    f.store
        .transact_write(vec![
            TxOp::Put {
                item: item("TG", "a").with_n("v", 0),
                condition: None,
            },
            TxOp::Put {
                item: item("TG", "b").with_n("v", 0),
                condition: None,
            },
        ])
        .await
        .unwrap();
    let got = f.store.transact_get(&keys).await.unwrap();
    assert_eq!(got.len(), 4, "one answer per key, repeated keys included");
    assert_eq!(
        got.iter()
            .map(|g| g.as_ref().and_then(|i| i.n("v")))
            .collect::<Vec<_>>(),
        vec![Some(0), Some(0), Some(0), None]
    );
    // A writer moves both items together; every snapshot must show them equal.
    let writer = {
        let store = f.store.clone();
        tokio::spawn(async move {
            for v in 1..=40 {
                store
                    .transact_write(vec![
                        TxOp::Update {
                            key: Key::new("TG", "a"),
                            updates: vec![Update::set("v", Attr::N(v))],
                            condition: None,
                        },
                        TxOp::Update {
                            key: Key::new("TG", "b"),
                            updates: vec![Update::set("v", Attr::N(v))],
                            condition: None,
                        },
                    ])
                    .await
                    .unwrap();
            }
        })
    };
    let pair = [Key::new("TG", "a"), Key::new("TG", "b")];
    let mut reads = 0;
    while !writer.is_finished() || reads < 10 {
        let got = f.store.transact_get(&pair).await.unwrap();
        let (a, b) = (got[0].as_ref().unwrap().n("v"), got[1].as_ref().unwrap().n("v"));
        assert_eq!(a, b, "a snapshot never splits a transaction");
        reads += 1;
    }
    writer.await.unwrap();
    let many: Vec<Key> = (0..101).map(|i| Key::new("TG", format!("k{i}"))).collect();
    assert!(matches!(f.store.transact_get(&many).await, Err(StoreError::Invalid(_))));
    assert!(f.store.transact_get(&[]).await.unwrap().is_empty());
}

async fn a_prefix_matches_exactly_the_keys_that_start_with_it(f: Fixture) {
    let keys = [
        "REL",
        "REL#",
        "REL#a",
        "REL#~",
        "REL#\u{7f}",
        "REL$",
        "REK~",
        "RELATION",
        "REL#é",
        "é#1",
        "é#2",
        "é$",
        "ê#",
        "~~",
        "~~~",
        "~\u{7f}",
    ];
    for sk in keys {
        f.store.put(item("P", sk), None).await.unwrap();
    }
    for prefix in ["REL#", "REL", "é#", "é", "~~", "~", "\u{7f}"] {
        for ascending in [true, false] {
            let mut q = Query::partition("P").begins_with(prefix).limit(100);
            if !ascending {
                q = q.descending();
            }
            let page = f.store.query(q).await.unwrap();
            let got: Vec<&str> = page.items.iter().map(|i| i.key.sk.as_str()).collect();
            let mut expected: Vec<&str> = keys.iter().copied().filter(|k| k.starts_with(prefix)).collect();
            expected.sort_unstable();
            if !ascending {
                expected.reverse();
            }
            assert_eq!(got, expected, "prefix {prefix:?}, ascending={ascending}");
        }
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(super::fixture(super::StoreKind::Sqlite).await).await } )*
        }
        #[cfg(feature = "dynamodb")]
        mod dynamodb {
            $( #[tokio::test] async fn $name() { super::$name(super::fixture(super::StoreKind::Dynamodb).await).await } )*
        }
    };
}

conformance!(
    a_conditional_put_fails_on_an_existing_item_and_changes_nothing,
    a_transaction_is_all_or_nothing_and_names_the_failed_condition,
    an_atomic_counter_stops_at_its_upper_bound,
    concurrent_increments_are_all_counted_and_never_pass_the_bound,
    of_concurrent_conditional_puts_exactly_one_wins,
    a_query_pages_by_cursor_and_returns_every_item_exactly_once,
    the_inverted_index_finds_items_by_their_index_key,
    an_item_past_its_expiry_reads_as_absent_while_still_stored,
    batch_get_returns_items_in_key_order_with_gaps,
    a_transactional_read_sees_each_transaction_whole,
    updates_set_add_and_remove_and_conditions_compare_values,
    a_failed_conditional_delete_keeps_the_item,
    reserved_attribute_names_are_refused,
    sort_key_ranges_read_after_a_key_and_between_two_keys,
    a_repeated_key_in_a_batch_get_is_answered_at_each_position,
    query_page_limits_clamp_the_same_on_both_stores,
    a_condition_of_one_part_or_nested_parts_is_evaluated_alike,
    a_prefix_matches_exactly_the_keys_that_start_with_it,
);
