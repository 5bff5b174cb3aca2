//! Which of a user's accounts a consent page offers to an app (SPEC §2, seed 002).

use crate::env::Env;
use crate::ids::AccountId;
use crate::model::{Account, Client};
use crate::oauth::grant::AccountBinding;

/// The accounts the user is asked to connect: the live account, when there is one to
/// offer, and the paper accounts, of which the user picks one.
#[derive(Clone, Debug)]
pub struct Offer {
    pub live: Option<Account>,
    pub paper: Vec<Account>,
}

/// Why nothing can be offered, in words for the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NothingToOffer {
    #[error("you have no live account that this app can connect to")]
    NoLive,
    #[error("you have no paper account that this app can connect to")]
    NoPaper,
    #[error("you have no account that this app can connect to")]
    NoAccount,
}

impl Offer {
    /// The offer for `client` asking for `env` among the user's `accounts`. Only
    /// accounts held at the client's broker are offered; a live account only to a
    /// client approved for live trading; with no `env`, both a live and a paper
    /// account when the user has them.
    pub fn new(
        client: &Client,
        env: Option<Env>,
        accounts: &[Account],
    ) -> Result<Self, NothingToOffer> {
        let at_broker = |env: Env| {
            accounts
                .iter()
                .filter(move |a| a.broker_id == client.broker_id && a.env == env)
                .cloned()
        };
        let live = || {
            at_broker(Env::Live)
                .next()
                .filter(|_| client.may_access(Env::Live))
        };
        let offer = match env {
            Some(Env::Live) => Self {
                live: live(),
                paper: Vec::new(),
            },
            Some(Env::Paper) => Self {
                live: None,
                paper: at_broker(Env::Paper).collect(),
            },
            None => Self {
                live: live(),
                paper: at_broker(Env::Paper).collect(),
            },
        };
        match (env, offer.live.is_some() || !offer.paper.is_empty()) {
            (_, true) => Ok(offer),
            (Some(Env::Live), false) => Err(NothingToOffer::NoLive),
            (Some(Env::Paper), false) => Err(NothingToOffer::NoPaper),
            (None, false) => Err(NothingToOffer::NoAccount),
        }
    }

    /// Whether the user must pick among several paper accounts.
    pub fn needs_paper_choice(&self) -> bool {
        self.paper.len() > 1
    }

    /// The accounts a consent binds, with the user's pick of paper account. `None` when
    /// the pick is missing where a choice was offered, or is not among the offered.
    pub fn bind(&self, paper_pick: Option<AccountId>) -> Option<AccountBinding> {
        let paper = match (self.paper.as_slice(), paper_pick) {
            ([], None) => None,
            ([], Some(_)) => return None,
            ([only], None) => Some(only.id),
            (_, None) => return None,
            (offered, Some(pick)) => Some(offered.iter().find(|a| a.id == pick)?.id),
        };
        AccountBinding::new(self.live.as_ref().map(|a| a.id), paper)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use rust_decimal::Decimal;

    use super::*;
    use crate::ids::{BrokerId, UserId};
    use crate::model::test_client;

    fn client(broker: BrokerId, live: bool) -> Client {
        test_client(broker, &[], live)
    }

    fn account(broker: BrokerId, env: Env) -> Account {
        Account {
            id: AccountId::random(),
            user_id: UserId::random(),
            broker_id: broker,
            env,
            account_number: "x".into(),
            cash: Decimal::ZERO,
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
        }
    }

    #[test]
    fn without_env_both_are_offered_and_live_only_to_approved_clients() {
        let b = BrokerId::random();
        let accounts = [
            account(b, Env::Live),
            account(b, Env::Paper),
            account(b, Env::Paper),
        ];
        let offer = Offer::new(&client(b, true), None, &accounts).unwrap();
        assert!(offer.live.is_some());
        assert!(offer.needs_paper_choice());
        let offer = Offer::new(&client(b, false), None, &accounts).unwrap();
        assert!(offer.live.is_none());
        assert_eq!(offer.paper.len(), 2);
    }

    #[test]
    fn only_accounts_at_the_clients_broker_are_offered() {
        let (b, other) = (BrokerId::random(), BrokerId::random());
        let accounts = [account(other, Env::Live), account(other, Env::Paper)];
        let c = client(b, true);
        assert_eq!(
            Offer::new(&c, None, &accounts).unwrap_err(),
            NothingToOffer::NoAccount
        );
        assert_eq!(
            Offer::new(&c, Some(Env::Live), &accounts).unwrap_err(),
            NothingToOffer::NoLive
        );
        assert_eq!(
            Offer::new(&c, Some(Env::Paper), &accounts).unwrap_err(),
            NothingToOffer::NoPaper
        );
    }

    #[test]
    fn the_paper_pick_must_be_among_the_offered() {
        let b = BrokerId::random();
        let (live, p1, p2) = (
            account(b, Env::Live),
            account(b, Env::Paper),
            account(b, Env::Paper),
        );
        let accounts = [live.clone(), p1.clone(), p2.clone()];
        let offer = Offer::new(&client(b, true), None, &accounts).unwrap();
        assert_eq!(offer.bind(None), None, "a choice was offered");
        assert_eq!(offer.bind(Some(AccountId::random())), None);
        let bound = offer.bind(Some(p2.id)).unwrap();
        assert_eq!((bound.live(), bound.paper()), (Some(live.id), Some(p2.id)));

        let live_only = Offer::new(&client(b, true), Some(Env::Live), &accounts).unwrap();
        assert_eq!(live_only.bind(Some(p1.id)), None);
        assert_eq!(live_only.bind(None).unwrap().paper(), None);

        let one_paper = Offer::new(&client(b, false), None, std::slice::from_ref(&p1)).unwrap();
        assert_eq!(one_paper.bind(None).unwrap().paper(), Some(p1.id));
    }
}
