-- An erased seller is still paid what they earned (issue 18 left their owed transfers
-- pending forever: the seller_accounts row goes with the user, and the payout worker found
-- no account to pay). Erasure copies the connected account onto the transfers still owed
-- or still in flight; the worker pays, looks up and retries those with it. The account id
-- is Stripe's, kept with the payment record (GDPR art. 17(3)(b): accounting).
ALTER TABLE transfers ADD COLUMN payout_account text;
