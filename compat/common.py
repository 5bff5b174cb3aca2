"""What both SDK suites share: OAuth tokens obtained through paddock's real browser
flow (login page, consent page, code, token endpoint), and a small runner of named
checks. Needs only `requests`, which both virtualenvs have (the SDKs depend on it).
"""

import html.parser
import sys
import traceback
import urllib.parse

import requests

# The demo data `paddock serve --demo` seeds (printed by it and in the README; fixed
# values, public by design).
CLIENT_ID = "dfb6e06fcdb65cb9034ac9c8dcbe027f"
CLIENT_SECRET = "f9dd36aff4e3075d0dab4d4d177fce265a284d55"
REDIRECT_URI = "http://localhost:8000/callback"
EMAIL = "demo@paddock.local"
PASSWORD = "paddock-demo"
LIVE_ACCOUNT = "ab6cde63-e019-460a-a418-5aa347549646"
PAPER_ACCOUNT = "eb5e157c-f03e-4671-a464-6a0649a4542f"


class _Forms(html.parser.HTMLParser):
    """The forms of a page: each as its action and its fields' values (hidden inputs,
    the checked radio button). Enough for paddock's login and consent pages."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind == "radio" and "checked" not in attrs:
                return
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def _form(page, action):
    parser = _Forms()
    parser.feed(page.text)
    for form in parser.forms:
        if form["action"] == action:
            return form["fields"]
    raise AssertionError(
        f"no form posting to {action} on {page.url} (HTTP {page.status_code}): "
        f"{page.text[:300]!r}"
    )


class Browser:
    """A person's browser on paddock's pages: one cookie jar, signed in once."""

    def __init__(self, server):
        self.server = server.rstrip("/")
        self.session = requests.Session()

    def authorize(self, scope=None, env=None):
        """Runs the authorization-code flow for the demo client and returns the token
        response (a dict with access_token, scope, ...). `scope=None` asks for no
        scope (read-only); `env` is None (live and paper), "live" or "paper"."""
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "state": "compat-state",
        }
        if scope is not None:
            query["scope"] = scope
        if env is not None:
            query["env"] = env
        url = self.server + "/oauth/authorize?" + urllib.parse.urlencode(query)
        page = self.session.get(url)
        page.raise_for_status()
        if 'action="/login"' in page.text:
            fields = _form(page, "/login")
            fields.update(email=EMAIL, password=PASSWORD)
            # The login answers with a redirect back to the authorization request,
            # which requests follows (same server), landing on the consent page.
            page = self.session.post(self.server + "/login", data=fields)
            page.raise_for_status()
        fields = _form(page, "/oauth/authorize")
        fields["decision"] = "allow"
        # The answer redirects to the app's redirect_uri, where nothing listens: read
        # the code from the Location header instead of following it.
        answer = self.session.post(
            self.server + "/oauth/authorize", data=fields, allow_redirects=False
        )
        assert answer.status_code in (302, 303), (
            f"consent: expected a redirect, got {answer.status_code}: {answer.text[:300]}"
        )
        location = answer.headers["Location"]
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert "code" in params, f"consent redirect carries no code: {location}"
        assert params.get("state") == ["compat-state"], location

        token = requests.post(
            self.server + "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": REDIRECT_URI,
            },
        )
        assert token.status_code == 200, f"token: {token.status_code} {token.text}"
        body = token.json()
        assert body.get("token_type", "").lower() == "bearer", body
        return body


def tokens(server):
    """The tokens the suites use, by name: `full` (account:write trading, live and
    paper), `no_trading` (account:write only), `read_only` (no scope) and `paper_only`
    (account:write trading, env=paper)."""
    browser = Browser(server)
    return {
        "full": browser.authorize("account:write trading")["access_token"],
        "no_trading": browser.authorize("account:write")["access_token"],
        "read_only": browser.authorize(None)["access_token"],
        "paper_only": browser.authorize("account:write trading", env="paper")["access_token"],
        "data": browser.authorize("data")["access_token"],
    }


class Runner:
    """Runs named checks, prints PASS or FAIL (with the exception) for each, and a
    summary line; `finish` exits non-zero when any failed."""

    def __init__(self, title, verbose=False):
        self.title = title
        self.verbose = verbose
        self.passed = 0
        self.failed = 0

    def run(self, name, check, *args):
        try:
            check(*args)
        except Exception as error:  # every failure is a finding: report and go on
            self.failed += 1
            print(f"FAIL {name}: {type(error).__name__}: {_describe(error)}")
            if self.verbose:
                traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print(f"PASS {name}")
        sys.stdout.flush()

    def finish(self):
        print(f"compat: {self.title}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def _describe(error):
    """One readable paragraph for an exception: the HTTP status and body for an SDK's
    APIError, pydantic's field-by-field report for a model that did not parse."""
    text = str(error).strip()
    status = status_of(error)
    if status is not None:
        request = getattr(error, "request", None)
        where = f"{request.method} {request.url} " if request is not None else ""
        text = f"{where}HTTP {status}: {text}"
    return text.replace("\n", "\n    ")


def expect_status(status, call, *args, **kwargs):
    """Calls an SDK method that must fail with HTTP `status`, and returns the error.
    Also checks Alpaca's error body: JSON with an integer `code` and a `message`."""
    try:
        call(*args, **kwargs)
    except Exception as error:
        got = status_of(error)
        if got is None:
            raise
        assert got == status, f"expected HTTP {status}, got {got}: {error}"
        try:
            body = error.response.json()
        except ValueError:
            raise AssertionError(
                f"HTTP {got} as expected, but the error body is not JSON: {error.response.text[:200]!r}"
            ) from None
        assert isinstance(body.get("code"), int) and isinstance(body.get("message"), str), (
            f"error body is not Alpaca's {{code, message}}: {body}"
        )
        return error
    raise AssertionError(f"expected HTTP {status}, but the call succeeded")


def status_of(error):
    """The HTTP status behind an SDK's exception: its APIError's `status_code`, or
    the response of a plain requests HTTPError (alpaca-trade-api raises one when an
    error body is not JSON with a `message`); None for any other exception."""
    status = getattr(error, "status_code", None)
    if status is None and isinstance(error, requests.HTTPError) and error.response is not None:
        status = error.response.status_code
    return status
