"""Optional bearer tokens on /ask, and rate limits per client kept in Redis."""

from __future__ import annotations

import pytest

from bot.http.auth import TokenCheck, limiter_storage_uri
from tests.bot.http.conftest import KEY_QUESTION
from tests.bot.http.test_errors import assert_problem

QUESTION = {"question": KEY_QUESTION}


@pytest.fixture()
def guarded(make_app, handbook):  # type: ignore[no-untyped-def]
    return make_app(api_tokens=("alpha-token", "beta-token")).test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_configured_tokens_ask_needs_no_token(client) -> None:
    assert client.post("/ask", json=QUESTION).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong"), bearer("alpha-token-x"), {"Authorization": "Basic alpha-token"},
     {"Authorization": "Bearer"}, {"Authorization": "alpha-token"}],
)  # fmt: skip
def test_a_missing_or_wrong_token_is_401_without_saying_which(guarded, headers) -> None:
    response = guarded.post("/ask", json=QUESTION, headers=headers)
    problem = assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="qa"'
    assert problem["detail"] == (
        "this endpoint needs a valid API token: send the header 'Authorization: Bearer <token>'"
    )


@pytest.mark.parametrize("token", ["alpha-token", "beta-token"])
def test_any_configured_token_is_accepted(guarded, token: str) -> None:
    assert guarded.post("/ask", json=QUESTION, headers=bearer(token)).status_code == 200


def test_tokens_come_from_a_comma_separated_environment_variable() -> None:
    from retrieval.settings import Settings

    settings = Settings.from_env({"QA_API_TOKEN": "alpha-token, beta-token"})
    check = TokenCheck(settings.api_tokens)
    assert check.valid("beta-token") and not check.valid("beta") and not check.valid(None)


def test_probes_and_page_need_no_token(guarded) -> None:
    for path in ("/health", "/ready", "/metrics", "/openapi.json", "/"):
        assert guarded.get(path).status_code == 200, path


def test_over_the_rate_limit_is_429_with_retry_after(make_app, handbook) -> None:
    client = make_app(rate_limit="2/minute").test_client()
    assert [client.post("/ask", json=QUESTION).status_code for _ in range(2)] == [200, 200]
    response = client.post("/ask", json=QUESTION)
    problem = assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "2 per 1 minute" in problem["detail"]
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_each_client_has_its_own_budget(make_app, handbook) -> None:
    client = make_app(rate_limit="1/minute", api_tokens=("alpha-token", "beta-token"))
    client = client.test_client()
    assert client.post("/ask", json=QUESTION, headers=bearer("alpha-token")).status_code == 200
    assert client.post("/ask", json=QUESTION, headers=bearer("alpha-token")).status_code == 429
    assert client.post("/ask", json=QUESTION, headers=bearer("beta-token")).status_code == 200
    other = {"REMOTE_ADDR": "10.0.0.9"}
    assert client.post("/ask", json=QUESTION, environ_base=other).status_code == 401
    assert client.post("/ask", json=QUESTION, environ_base=other).status_code == 429


def test_wrong_tokens_share_the_address_budget(make_app, handbook) -> None:
    """Guessing tokens cannot dodge the limit: only a valid token gets a budget of its own."""
    client = make_app(rate_limit="2/minute", api_tokens=("alpha-token",)).test_client()
    codes = [client.post("/ask", json=QUESTION, headers=bearer(f"guess-{i}")).status_code
             for i in range(3)]  # fmt: skip
    assert codes == [401, 401, 429]


def test_rate_limits_are_counted_in_redis(make_app, handbook, settings, redis_client) -> None:
    client = make_app(rate_limit="5/minute").test_client()
    client.post("/ask", json=QUESTION)
    keys = list(redis_client.scan_iter(match=f"{settings.key_prefix}:ratelimit*"))
    assert keys, "the limiter should keep its counters in the service's Redis"


def test_the_proxy_hop_setting_limits_by_the_forwarded_client(make_app, handbook) -> None:
    client = make_app(rate_limit="1/minute", proxy_hops=1).test_client()
    first = {"X-Forwarded-For": "203.0.113.1"}
    assert client.post("/ask", json=QUESTION, headers=first).status_code == 200
    assert client.post("/ask", json=QUESTION, headers=first).status_code == 429
    second = {"X-Forwarded-For": "203.0.113.2"}
    assert client.post("/ask", json=QUESTION, headers=second).status_code == 200


@pytest.mark.parametrize(
    ("url", "expected"),
    [("unix:///tmp/r/redis.sock", "redis+unix:///tmp/r/redis.sock"),
     ("redis://cache:6379/0", "redis://cache:6379/0"),
     ("rediss://user:pw@cache:6380", "rediss://user:pw@cache:6380")],
)  # fmt: skip
def test_the_limiter_uses_the_services_redis(url: str, expected: str) -> None:
    assert limiter_storage_uri(url) == expected
