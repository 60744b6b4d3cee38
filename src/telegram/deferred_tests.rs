use super::*;
use crate::domain::Timestamp;
use crate::testing::store_fixtures::message;

fn link(id: i32) -> Record {
    Record::Link {
        original: message(1, id),
        copy: message(2, id + 100),
        at: Timestamp(1),
    }
}

#[test]
fn the_first_finished_send_sets_the_deadline_and_later_ones_dont_move_it() {
    let start = Instant::now();
    let mut deferred = Deferred::default();
    assert_eq!(deferred.due(), None);
    deferred.note(0, [], start);
    assert_eq!(deferred.due(), None, "nothing to write, nothing to flush");
    deferred.note(7, [], start);
    assert_eq!(deferred.due(), Some(start + FLUSH_DELAY));
    deferred.note(8, [], start + Duration::from_millis(9));
    assert_eq!(deferred.due(), Some(start + FLUSH_DELAY), "not postponed");

    let (acks, links) = deferred.take(start + FLUSH_DELAY);
    assert_eq!(acks, vec![7, 8]);
    assert!(links.is_empty());
    assert_eq!(deferred.due(), None);
    assert!(deferred.is_empty());
}

#[test]
fn links_wait_a_second_unless_many_wait_and_removals_do_not() {
    let start = Instant::now();
    let mut deferred = Deferred::default();
    deferred.note(7, [link(1)], start);
    assert_eq!(deferred.due(), Some(start + FLUSH_DELAY), "removals first");

    let (acks, links) = deferred.take(start + FLUSH_DELAY);
    assert_eq!(acks, vec![7]);
    assert!(links.is_empty(), "a link waits for its own deadline");
    assert_eq!(deferred.due(), Some(start + LINK_FLUSH_DELAY));
    assert!(!deferred.has_due(start + FLUSH_DELAY));

    deferred.note(8, [link(2)], start + Duration::from_millis(500));
    let (_, links) = deferred.take(start + LINK_FLUSH_DELAY);
    assert_eq!(links, vec![link(1), link(2)], "written together, in order");
    assert!(deferred.is_empty());
    assert_eq!(deferred.due(), None);
}

#[test]
fn a_full_buffer_of_links_is_written_with_the_next_commit() {
    let start = Instant::now();
    let mut deferred = Deferred::default();
    deferred.note(0, (0..MAX_WAITING_LINKS as i32).map(link), start);
    assert!(deferred.has_due(start));
    let (_, links) = deferred.take(start);
    assert_eq!(links.len(), MAX_WAITING_LINKS);
}

#[test]
fn waiting_links_answer_lookups_from_either_side_until_written() {
    let start = Instant::now();
    let mut deferred = Deferred::default();
    deferred.note(3, [link(5)], start);
    assert_eq!(
        deferred.link(&message(1, 5)),
        Some(Linked {
            other: message(2, 105),
            original: true
        }),
        "the sender's original leads to the copy"
    );
    assert_eq!(
        deferred.link(&message(2, 105)),
        Some(Linked {
            other: message(1, 5),
            original: false
        }),
        "the partner's copy leads to the original"
    );
    assert_eq!(
        deferred.link(&message(2, 5)),
        None,
        "another chat's message"
    );

    deferred.expedite(start);
    deferred.take(start);
    assert_eq!(deferred.link(&message(1, 5)), None, "the store answers now");
}

#[test]
fn a_failed_commit_puts_its_entries_back_first_and_rearms() {
    let start = Instant::now();
    let mut deferred = Deferred::default();
    deferred.note(1, [link(1)], start);
    deferred.expedite(start);
    let (acks, links) = deferred.take(start);
    deferred.note(2, [link(2)], start + Duration::from_millis(3));
    let retry_at = start + Duration::from_secs(5);
    deferred.restore(acks, links, retry_at);
    assert_eq!(deferred.due(), Some(retry_at));
    assert!(deferred.link(&message(1, 1)).is_some(), "looked up again");
    let (acks, links) = deferred.take(retry_at);
    assert_eq!(acks, vec![1, 2], "the older removal stays first");
    assert_eq!(links, vec![link(1), link(2)]);

    deferred.restore(Vec::new(), Vec::new(), retry_at);
    assert_eq!(deferred.due(), None, "nothing put back, nothing to retry");
}

#[test]
fn links_for_other_instances_wait_no_longer_than_removals() {
    let start = Instant::now();
    let mut deferred = Deferred::sharing_links();
    deferred.note(0, [link(1)], start);
    assert_eq!(deferred.due(), Some(start + FLUSH_DELAY));
    let (_, links) = deferred.take(start + FLUSH_DELAY);
    assert_eq!(links, vec![link(1)]);
}
