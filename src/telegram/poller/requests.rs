//! The loop's side of [`crate::submit`]: dashboard events are handled,
//! committed and dispatched like the events of an update, one at a time
//! between batches, and answered only after the commit.

use super::Poller;
use crate::domain::Timestamp;
use crate::submit::{DeskView, Request, SubmitError, VIEW_REPORTS};

impl Poller {
    pub(super) async fn serve(&mut self, request: Request) -> anyhow::Result<()> {
        match request {
            Request::Apply { event, reply } => {
                // Decided after the batches ahead, on what they left.
                self.land_all().await;
                // As for updates: a stale engine is not used until the
                // store can be read back.
                // Several instances: this one's turn, on the latest state.
                if self.sync(&[]).await.is_err() {
                    let _ = reply.send(Err(SubmitError::NotCommitted));
                    return Ok(());
                }
                let outcome = self.engine.handle(&event, Timestamp::now());
                let settled = self.settle(outcome.clone(), None, Vec::new()).await;
                self.end_turn().await;
                let result = match settled {
                    Ok(()) => Ok(outcome),
                    Err(failed) => {
                        self.degrade(vec![(None, outcome)], &failed).await;
                        Err(SubmitError::NotCommitted)
                    }
                };
                let _ = reply.send(result);
            }
            Request::View { reply } => {
                // What is shown is durable: the batches ahead land first.
                self.land_all().await;
                let _ = reply.send(self.view());
            }
        }
        Ok(())
    }

    fn view(&self) -> DeskView {
        let (searching, chats) = self.engine.counts();
        DeskView {
            searching,
            chats,
            open_reports: self.engine.open_reports(VIEW_REPORTS),
            open_report_count: self.engine.open_report_count(),
            bans: self.engine.bans_list(Timestamp::now()),
        }
    }
}
