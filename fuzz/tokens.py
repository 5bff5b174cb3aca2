"""Credentials for scripts/fuzz, printed as shell assignments:

  PADDOCK_FUZZ_TOKEN  a Bearer token with `account:write trading data` (live and paper),
                      from the real browser flow (login page, consent page, code,
                      /oauth/token), as compat/common.py drives it;
  PADDOCK_FUZZ_SPARE  throwaway tokens from the Broker API (POST /v1/oauth/token), the
                      only real tokens the revocation endpoints are given.

  python tokens.py BASE_URL
"""

import os
import shlex
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat"))

import common  # noqa: E402  (compat/common.py)
import requests  # noqa: E402

BROKER = ("BK4OLDFU9OHK0DHWEBVR", "4cd51201f5a4802abd1d46c8f167e720a5ff985a")


def spare(base):
    answer = requests.post(
        base + "/v1/oauth/token",
        auth=BROKER,
        json={
            "client_id": common.CLIENT_ID,
            "client_secret": common.CLIENT_SECRET,
            "redirect_uri": common.REDIRECT_URI,
            "scope": "general",
            "account_id": common.PAPER_ACCOUNT,
        },
    )
    assert answer.status_code == 200, f"broker token: {answer.status_code} {answer.text}"
    return answer.json()["access_token"]


def main():
    base = sys.argv[1].rstrip("/")
    token = common.Browser(base).authorize("account:write trading data")["access_token"]
    spares = " ".join(spare(base) for _ in range(3))
    print(f"PADDOCK_FUZZ_TOKEN={shlex.quote(token)}")
    print(f"PADDOCK_FUZZ_SPARE={shlex.quote(spares)}")


if __name__ == "__main__":
    main()
