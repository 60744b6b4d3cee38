//! One suite of store tests, run against every backend: each record's
//! effect, atomic batches, restarts and stats. What one backend keeps, the
//! other must keep the same way, because the engine is restored from either.
//!
//! Cases are generic over [`harness::Harness`]; `both!` instantiates each
//! for the embedded redb store and for the Redis store (on a private
//! redis-server). Backend-specific checks (redb's file handling, Redis key
//! layout and prefixes) live beside their store or in `redis_only`.

mod cases;
mod harness;
mod redis_only;

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    super::cases::$case::<super::harness::Embedded>().await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::cases::$case::<super::harness::Redis>().await;
                }
            )*
        }
    };
}

both!(
    an_empty_store_loads_empty,
    every_record_round_trips,
    every_record_survives_a_restart,
    a_failing_batch_applies_nothing,
    stats_count_everything,
    counts_folded_into_one_batch_add_up,
    pairing_again_drops_stale_reverse_entries,
    a_forgotten_last_partner_is_gone_after_a_restart,
    bans_and_recent_reports_survive_a_restart,
    an_album_being_gathered_survives_a_restart_until_done,
    links_are_found_both_ways_and_pruned,
    a_pass_of_sliced_prunes_forgets_every_old_link,
    the_outbox_keeps_order_and_forgets_done_sends,
    profiles_and_maintenance_replace_what_was_there,
    known_users_are_walked_in_id_order,
);
