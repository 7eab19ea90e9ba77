// The sandbox Connect's onboarding page: the signed link names the account; one button
// enables it (the sandbox then sends a signed account.updated to our own Stripe webhook)
// and the seller goes back to the return URL, as Stripe's hosted onboarding would.

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const account = query.get("account") || "";
const sameOrigin = (url) => { try { return new URL(url, location.href).origin === location.origin; } catch { return false; } };
const back = sameOrigin(query.get("return_url")) ? query.get("return_url") : "sell.html?onboarding=return";

$("account-id").textContent = account;
$("back").href = back;
$("enable").onclick = async () => {
  $("error").textContent = "";
  $("enable").disabled = true;
  try {
    const res = await fetch(`/api/v1/sandbox/connect/accounts/${encodeURIComponent(account)}/enable`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ expires: query.get("expires") || "", signature: query.get("signature") || "" }),
    });
    const json = await res.json();
    if (!json.success) throw new Error(json.error);
    $("outcome").dataset.state = "paid";
    $("outcome").textContent = "Onboarding finished: payouts are enabled.";
    setTimeout(() => location.assign(back), 600);
  } catch (err) {
    $("error").textContent = err.message;
    $("enable").disabled = false;
  }
};
